using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace ClusterQueue.Config;

/// <summary>
/// Binds a settings record from a section: kebab-case keys map to PascalCase properties or constructor parameters.
/// TimeSpan accepts HOCON durations, <see cref="ByteSize"/> and long accept sizes, enums match case-insensitively
/// (dashes ignored), lists accept arrays or one comma-separated string, dictionaries accept objects.
/// </summary>
public static class SettingsBinder
{
    /// <summary>Binds the settings record of <c>cluster-queue.&lt;section&gt;</c>, e.g. <c>GetSettings&lt;BrokerSettings&gt;("broker")</c>.</summary>
    public static T GetSettings<T>(this IConfiguration configuration, string section) where T : notnull
    {
        var key = ConfigurationPath.Combine(ClusterQueueConfiguration.RootPath, section.Replace('.', ':'));
        return (T)new Binder(configuration).Bind(typeof(T), configuration.GetSection(key))!;
    }

    /// <summary>Reads a HOCON duration at a dotted path or configuration key; null when unset.</summary>
    public static TimeSpan? GetDuration(this IConfiguration configuration, string key) =>
        (TimeSpan?)new Binder(configuration).BindOptional(typeof(TimeSpan), configuration.GetSection(key.Replace('.', ':')));

    /// <summary>Reads a HOCON size at a dotted path or configuration key; null when unset.</summary>
    public static ByteSize? GetSize(this IConfiguration configuration, string key) =>
        (ByteSize?)new Binder(configuration).BindOptional(typeof(ByteSize), configuration.GetSection(key.Replace('.', ':')));

    /// <summary>"PrefetchMultiplier" becomes "prefetch-multiplier".</summary>
    public static string ToKebabCase(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0
                && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }

    private sealed class Binder(IConfiguration root)
    {
        public object? BindOptional(Type type, IConfigurationSection section) =>
            section.Exists() ? Bind(type, section) : null;

        public object? Bind(Type type, IConfigurationSection section)
        {
            var underlying = Nullable.GetUnderlyingType(type);
            if (underlying is not null)
            {
                return section.Value is null && !section.GetChildren().Any() ? null : Bind(underlying, section);
            }

            if (type == typeof(string))
            {
                return section.Value;
            }

            if (IsScalar(type))
            {
                return ParseScalar(type, section);
            }

            if (ElementTypeOfList(type) is { } elementType)
            {
                return BindList(type, elementType, section);
            }

            if (ValueTypeOfDictionary(type) is { } valueType)
            {
                return BindDictionary(type, valueType, section);
            }

            return BindObject(type, section);
        }

        private static bool IsScalar(Type type) =>
            type.IsPrimitive || type.IsEnum || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(ByteSize) || type == typeof(Uri);

        private object ParseScalar(Type type, IConfigurationSection section)
        {
            var text = section.Value;
            if (text is null)
            {
                throw Error(section, "a value", section.GetChildren().Any() ? "an object" : "null");
            }

            var invariant = CultureInfo.InvariantCulture;
            try
            {
                if (type == typeof(bool))
                {
                    return text.ToLowerInvariant() switch
                    {
                        "true" or "yes" or "on" => true,
                        "false" or "no" or "off" => false,
                        _ => throw Error(section, "a boolean (true, false, yes, no, on, off)", text),
                    };
                }

                if (type == typeof(TimeSpan))
                {
                    return HoconDuration.TryParse(text, out var duration)
                        ? duration
                        : throw Error(section, "a duration such as 30s, 500ms, 2 minutes or 1d", text);
                }

                if (type == typeof(ByteSize))
                {
                    return ByteSize.TryParse(text, out var size) ? size : throw Error(section, "a size such as 512, 64KiB, 1k or 10 MB", text);
                }

                if (type == typeof(long))
                {
                    return long.TryParse(text, NumberStyles.Integer, invariant, out var number) ? number
                        : ByteSize.TryParse(text, out var size) ? size.Bytes
                        : throw Error(section, "an integer or a size such as 64MiB", text);
                }

                if (type == typeof(int))
                {
                    return int.TryParse(text, NumberStyles.Integer, invariant, out var number) ? number : throw Error(section, "an integer", text);
                }

                if (type == typeof(double))
                {
                    return double.TryParse(text, NumberStyles.Float, invariant, out var number) ? number : throw Error(section, "a number", text);
                }

                if (type == typeof(Uri))
                {
                    return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : throw Error(section, "an absolute URI", text);
                }

                if (type.IsEnum)
                {
                    var wanted = text.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
                    var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(n, wanted, StringComparison.OrdinalIgnoreCase));
                    return match is not null
                        ? Enum.Parse(type, match)
                        : throw Error(section, "one of " + string.Join(", ", Enum.GetNames(type).Select(ToKebabCase)), text);
                }

                return Convert.ChangeType(text, type, invariant);
            }
            catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
            {
                throw Error(section, $"a value of type {type.Name}", text);
            }
        }

        private object BindList(Type listType, Type elementType, IConfigurationSection section)
        {
            var items = new List<object?>();
            if (!string.IsNullOrEmpty(section.Value))
            {
                // An environment variable or flag gives a list as one comma-separated string. An empty value is
                // how an empty HOCON list shows up, and must not hide the items a later layer adds.
                foreach (var part in section.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    items.Add(Bind(elementType, new ValueSection(section, items.Count, part)));
                }
            }
            else
            {
                foreach (var child in section.GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue))
                {
                    if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        throw Error(section, "a list", "an object with key " + child.Key);
                    }

                    items.Add(Bind(elementType, child));
                }
            }

            var array = Array.CreateInstance(elementType, items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                array.SetValue(items[i], i);
            }

            if (listType.IsArray || listType.IsInterface)
            {
                return listType.IsArray || !listType.IsAssignableFrom(typeof(List<>).MakeGenericType(elementType))
                    ? array
                    : Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType), array)!;
            }

            return Activator.CreateInstance(listType, array)!;
        }

        private object BindDictionary(Type dictionaryType, Type valueType, IConfigurationSection section)
        {
            var concrete = typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType);
            var dictionary = (IDictionary)Activator.CreateInstance(concrete, StringComparer.Ordinal)!;
            foreach (var child in section.GetChildren())
            {
                dictionary[child.Key] = Bind(valueType, child);
            }

            return dictionary;
        }

        private object BindObject(Type type, IConfigurationSection section)
        {
            if (section.Value is not null)
            {
                throw Error(section, $"an object ({ToKebabCase(type.Name)})", section.Value);
            }

            if (type.GetConstructor(Type.EmptyTypes) is not null)
            {
                var instance = Activator.CreateInstance(type)!;
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    var child = section.GetSection(ToKebabCase(property.Name));
                    if (property.SetMethod is { IsPublic: true } && child.Exists())
                    {
                        property.SetValue(instance, Bind(property.PropertyType, child));
                    }
                }

                return instance;
            }

            var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                ?? throw new ConfigException($"{Dotted(section.Path)}: {type.Name} has no public constructor to bind", key: Dotted(section.Path));
            var arguments = constructor.GetParameters().Select(parameter =>
            {
                var child = section.GetSection(ToKebabCase(parameter.Name!));
                if (child.Exists())
                {
                    return Bind(parameter.ParameterType, child);
                }

                if (parameter.HasDefaultValue)
                {
                    return parameter.DefaultValue;
                }

                return parameter.ParameterType.IsValueType && Nullable.GetUnderlyingType(parameter.ParameterType) is null
                    ? throw new ConfigException($"missing key {Dotted(child.Path)}: expected a value of type {parameter.ParameterType.Name}", key: Dotted(child.Path))
                    : null;
            }).ToArray();
            return constructor.Invoke(arguments);
        }

        private ConfigException Error(IConfigurationSection section, string expected, string found)
        {
            var key = Dotted(section.Path);
            var origin = Origin(section.Path);
            var suffix = origin is null ? "" : $" (set by {origin})";
            return new ConfigException($"bad value for {key}: expected {expected} but found '{found}'{suffix}", key: key);
        }

        private string? Origin(string key)
        {
            if (root is not IConfigurationRoot configurationRoot)
            {
                return null;
            }

            // An item split from a comma-separated value has no key of its own; its list was set as a whole.
            foreach (var candidate in new[] { key, ConfigurationPath.GetParentPath(key) }.OfType<string>())
            {
                foreach (var provider in configurationRoot.Providers.Reverse())
                {
                    if (provider.TryGet(candidate, out _))
                    {
                        return (provider as IConfigurationOrigin)?.DescribeOrigin(candidate);
                    }
                }
            }

            return null;
        }

        private static string Dotted(string configurationKey) => configurationKey.Replace(':', '.');

        private static Type? ElementTypeOfList(Type type)
        {
            if (type.IsArray)
            {
                return type.GetElementType();
            }

            if (!type.IsGenericType || type == typeof(string))
            {
                return null;
            }

            var definition = type.GetGenericTypeDefinition();
            return definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
                || definition == typeof(IEnumerable<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(ICollection<>)
                ? type.GetGenericArguments()[0]
                : null;
        }

        private static Type? ValueTypeOfDictionary(Type type)
        {
            if (!type.IsGenericType)
            {
                return null;
            }

            var definition = type.GetGenericTypeDefinition();
            var arguments = type.GetGenericArguments();
            return (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
                && arguments[0] == typeof(string)
                ? arguments[1]
                : null;
        }
    }

    /// <summary>One item of a comma-separated list, shaped as a section so that the element binds like any other.</summary>
    private sealed class ValueSection(IConfigurationSection parent, int index, string value) : IConfigurationSection
    {
        public string? this[string key] { get => null; set => throw new NotSupportedException(); }

        public string Key { get; } = index.ToString(CultureInfo.InvariantCulture);

        public string Path => ConfigurationPath.Combine(parent.Path, Key);

        public string? Value { get => value; set => throw new NotSupportedException(); }

        public IEnumerable<IConfigurationSection> GetChildren() => [];

        public Microsoft.Extensions.Primitives.IChangeToken GetReloadToken() => parent.GetReloadToken();

        public IConfigurationSection GetSection(string key) => parent.GetSection(ConfigurationPath.Combine(Key, key));
    }
}
