using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Client;

/// <summary>One registered task: its Celery name, its options, and a compiled call that binds JSON arguments to a .NET method.</summary>
public sealed class TaskDefinition
{
    private readonly object? _target;
    private readonly MethodInvoker _invoker;
    private readonly ParameterBinding[] _parameters;
    private readonly int _positionalCount;
    private readonly Func<object?, ValueTask<object?>> _awaitResult;
    private readonly JsonSerializerOptions _json;

    internal TaskDefinition(string name, MethodInfo method, object? target, TaskOptions options, JsonSerializerOptions json)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a task needs a non-empty name", nameof(name));
        }

        Name = name;
        Method = method;
        Options = options;
        DeclaredOptions = options;
        _target = target;
        _json = json;
        _invoker = MethodInvoker.Create(method);
        _parameters = method.GetParameters().Select(ParameterBinding.For).ToArray();
        _positionalCount = _parameters.Count(p => p.Kind == ParameterKind.Value);
        _awaitResult = ResultAwaiter.For(method.ReturnType);
    }

    public string Name { get; }

    /// <summary>The task's attributes, with the registry's <see cref="TaskDefaults"/> filled in.</summary>
    public TaskOptions Options { get; private set; }

    /// <summary>The options as the task declared them, before any defaults.</summary>
    public TaskOptions DeclaredOptions { get; }

    internal void ApplyDefaults(TaskDefaults defaults) => Options = defaults.ApplyTo(DeclaredOptions);

    public MethodInfo Method { get; }

    /// <summary>Binds <paramref name="context"/>'s args and kwargs as Python does, runs the method, and returns its result as JSON.</summary>
    /// <exception cref="TaskArgumentException">The arguments do not fit; the message reads like Python's TypeError.</exception>
    public async ValueTask<JsonNode?> InvokeAsync(TaskContext context)
    {
        var arguments = Bind(context);
        object? returned;
        try
        {
            returned = _invoker.Invoke(_target, arguments.AsSpan());
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // Callers classify the task's own exception (retry, autoretry, failure), so never hand them the wrapper.
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }

        var value = await _awaitResult(returned).ConfigureAwait(false);
        return value switch
        {
            null => null,
            JsonNode node => node,
            _ => JsonSerializer.SerializeToNode(value, value.GetType(), _json),
        };
    }

    private object?[] Bind(TaskContext context)
    {
        var args = context.Args;
        var kwargs = context.Kwargs;
        if (args.Count > _positionalCount && !AcceptsRawArguments)
        {
            throw new TaskArgumentException(
                $"{Name}() takes {_positionalCount} positional argument{(_positionalCount == 1 ? "" : "s")} but {args.Count} were given");
        }

        var values = new object?[_parameters.Length];
        var used = kwargs.Count == 0 ? null : new HashSet<string>(StringComparer.Ordinal);
        var position = 0;
        for (var i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            switch (parameter.Kind)
            {
                case ParameterKind.Context:
                    values[i] = context;
                    continue;
                case ParameterKind.Cancellation:
                    values[i] = context.CancellationToken;
                    continue;
            }

            JsonNode? node;
            var found = true;
            if (position < args.Count)
            {
                node = args[position];
                if (parameter.FindKeyword(kwargs) is { } duplicate)
                {
                    throw new TaskArgumentException($"{Name}() got multiple values for argument '{duplicate}'");
                }
            }
            else if (parameter.FindKeyword(kwargs) is { } key)
            {
                node = kwargs[key];
                used!.Add(key);
            }
            else
            {
                node = null;
                found = false;
            }

            position++;
            if (!found)
            {
                values[i] = parameter.HasDefault
                    ? parameter.Default
                    : throw new TaskArgumentException($"{Name}() missing required argument: '{parameter.PythonName}'");
                continue;
            }

            values[i] = Convert(node, parameter);
        }

        if (used is not null && used.Count < kwargs.Count && !AcceptsRawArguments)
        {
            var unexpected = kwargs.Select(k => k.Key).First(k => !used.Contains(k));
            throw new TaskArgumentException($"{Name}() got an unexpected keyword argument '{unexpected}'");
        }

        return values;
    }

    /// <summary>A method taking a <see cref="TaskContext"/> and no value parameters reads args and kwargs itself (<c>*args, **kwargs</c>).</summary>
    private bool AcceptsRawArguments => _positionalCount == 0 && _parameters.Any(p => p.Kind == ParameterKind.Context);

    private object? Convert(JsonNode? node, ParameterBinding parameter)
    {
        try
        {
            return node is null
                ? parameter.AcceptsNull ? null : throw new JsonException("null is not allowed")
                : node.Deserialize(parameter.Type, _json);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            var found = node is null ? "null" : node.ToJsonString();
            if (found.Length > 80)
            {
                found = found[..77] + "...";
            }

            throw new TaskArgumentException(
                $"{Name}() argument '{parameter.PythonName}': expected {TypeNames.Friendly(parameter.Type)}, got {found}");
        }
    }
}
