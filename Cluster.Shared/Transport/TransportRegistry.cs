using ClusterQueue.Transport.Amqp;
using ClusterQueue.Transport.Memory;
using ClusterQueue.Transport.Sqlite;
using ClusterQueue.Transport.Sqs;
using ClusterQueue.Transport.Virtual;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Transport;

/// <summary>Opens a transport from a broker URL by its scheme. Other transports register their scheme here.</summary>
public sealed class TransportRegistry
{
    private readonly Dictionary<string, Func<BrokerUrl, BrokerSettings, ILoggerFactory, ITransport>> factories =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The registry with the embedded transports, <c>memory://</c> and <c>sqlite:///</c>, RabbitMQ's <c>amqp://</c> and <c>amqps://</c>, and Amazon SQS's <c>sqs://</c>.</summary>
    public static TransportRegistry CreateDefault()
    {
        var registry = new TransportRegistry();
        registry.Register("memory", (url, settings, logging) =>
            new VirtualTransport(MemoryBrokers.Get(url.MemoryName()), settings, logging.CreateLogger("ClusterQueue.Transport.Memory")));
        registry.Register("sqlite", (url, settings, logging) =>
            new VirtualTransport(new SqliteMessageStore(url.SqlitePath()), settings, logging.CreateLogger("ClusterQueue.Transport.Sqlite")));
        registry.Register("amqp", (url, settings, logging) => new AmqpTransport(url, settings, logging.CreateLogger("ClusterQueue.Transport.Amqp")));
        registry.Register("amqps", (url, settings, logging) => new AmqpTransport(url, settings, logging.CreateLogger("ClusterQueue.Transport.Amqp")));
        registry.Register("sqs", (url, settings, logging) => new SqsTransport(url, settings, logging.CreateLogger("ClusterQueue.Transport.Sqs")));
        return registry;
    }

    public IReadOnlyCollection<string> Schemes => factories.Keys;

    public void Register(string scheme, Func<BrokerUrl, BrokerSettings, ILoggerFactory, ITransport> factory) =>
        factories[scheme] = factory;

    /// <summary>Opens the transport named by <see cref="BrokerSettings.Url"/>; a bad or unsupported URL is a <see cref="BrokerUrlException"/>.</summary>
    public ITransport Open(BrokerSettings settings, ILoggerFactory? logging = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var url = BrokerUrl.Parse(settings.Url);
        if (!factories.TryGetValue(url.Scheme, out var factory))
        {
            throw new BrokerUrlException(
                settings.Url,
                $"no transport for scheme '{url.Scheme}'; supported: {string.Join(", ", factories.Keys.Order().Select(s => s + "://"))}");
        }

        return factory(url, settings, logging ?? NullLoggerFactory.Instance);
    }
}
