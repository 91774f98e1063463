using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterQueue.Client;

internal enum ParameterKind
{
    Value,
    Context,
    Cancellation,
}

/// <summary>How one .NET parameter receives its value: from args or kwargs (by its C# or snake_case name), or injected.</summary>
internal sealed record ParameterBinding(
    ParameterKind Kind,
    Type Type,
    string Name,
    string PythonName,
    bool HasDefault,
    object? Default,
    bool AcceptsNull)
{
    public static ParameterBinding For(ParameterInfo parameter)
    {
        var kind = parameter.ParameterType == typeof(TaskContext) ? ParameterKind.Context
            : parameter.ParameterType == typeof(CancellationToken) ? ParameterKind.Cancellation
            : ParameterKind.Value;
        var name = parameter.Name ?? $"arg{parameter.Position}";
        var acceptsNull = !parameter.ParameterType.IsValueType
            ? new NullabilityInfoContext().Create(parameter).WriteState != NullabilityState.NotNull
            : Nullable.GetUnderlyingType(parameter.ParameterType) is not null;
        return new ParameterBinding(
            kind,
            parameter.ParameterType,
            name,
            ToSnakeCase(name),
            parameter.HasDefaultValue,
            parameter.HasDefaultValue ? parameter.DefaultValue : null,
            acceptsNull || parameter.ParameterType == typeof(JsonNode));
    }

    /// <summary>The key under which a keyword argument for this parameter was given, if any.</summary>
    public string? FindKeyword(JsonObject kwargs)
    {
        if (kwargs.Count == 0)
        {
            return null;
        }

        if (kwargs.ContainsKey(PythonName))
        {
            return PythonName;
        }

        return kwargs.ContainsKey(Name) ? Name : null;
    }

    private static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}

/// <summary>Turns whatever a task method returned (a value, Task, Task&lt;T&gt;, ValueTask, ValueTask&lt;T&gt;) into its awaited value.</summary>
internal static class ResultAwaiter
{
    public static Func<object?, ValueTask<object?>> For(Type returnType)
    {
        if (returnType == typeof(void))
        {
            return static _ => ValueTask.FromResult<object?>(null);
        }

        if (returnType == typeof(Task))
        {
            return static async returned =>
            {
                await ((Task)returned!).ConfigureAwait(false);
                return null;
            };
        }

        if (returnType == typeof(ValueTask))
        {
            return static async returned =>
            {
                await ((ValueTask)returned!).ConfigureAwait(false);
                return null;
            };
        }

        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            var name = definition == typeof(Task<>) ? nameof(AwaitTask)
                : definition == typeof(ValueTask<>) ? nameof(AwaitValueTask)
                : null;
            if (name is not null)
            {
                return typeof(ResultAwaiter)
                    .GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(returnType.GetGenericArguments()[0])
                    .CreateDelegate<Func<object?, ValueTask<object?>>>();
            }
        }

        return static returned => ValueTask.FromResult(returned);
    }

    private static async ValueTask<object?> AwaitTask<T>(object? returned) => await ((Task<T>)returned!).ConfigureAwait(false);

    private static async ValueTask<object?> AwaitValueTask<T>(object? returned) => await ((ValueTask<T>)returned!).ConfigureAwait(false);
}

/// <summary>Type names as a Python user would read them in an argument error.</summary>
internal static class TypeNames
{
    public static string Friendly(Type type)
    {
        var inner = Nullable.GetUnderlyingType(type);
        if (inner is not null)
        {
            return Friendly(inner) + " or null";
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            return "an integer";
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return "a number";
        }

        if (type == typeof(string))
        {
            return "a string";
        }

        if (type == typeof(bool))
        {
            return "a boolean";
        }

        if (type.IsArray || (type.IsGenericType && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))))
        {
            return "a list";
        }

        return type.Name;
    }
}
