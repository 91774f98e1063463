using System.Text.RegularExpressions;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace ClusterQueue.Transport.Amqp;

/// <summary>Turns RabbitMQ.Client's exceptions into the transport's typed errors.</summary>
internal static partial class AmqpErrors
{
    private const int NotFound = 404;
    private const int PreconditionFailed = 406;

    /// <summary>The broker's reason when it closed the channel or connection under the operation; null for other failures.</summary>
    public static ShutdownEventArgs? ReasonOf(Exception e) => e switch
    {
        OperationInterruptedException interrupted => interrupted.ShutdownReason,
        PublishException => null,
        _ => e.InnerException is { } inner ? ReasonOf(inner) : null,
    };

    /// <summary>Whether the failure closed the channel it ran on, so that the channel must be replaced.</summary>
    public static bool ClosesChannel(Exception e) => e is OperationInterruptedException or AlreadyClosedException;

    /// <summary>NOT_FOUND names the missing queue or exchange; PRECONDITION_FAILED keeps the broker's text; anything else is a lost connection.</summary>
    public static TransportException Map(Exception e, string operation)
    {
        if (e is TransportException known)
        {
            return known;
        }

        var reason = ReasonOf(e);
        if (reason is { ReplyCode: NotFound } && MissingEntity().Match(reason.ReplyText) is { Success: true } match)
        {
            return match.Groups["kind"].Value == "queue"
                ? new QueueNotFoundException(match.Groups["name"].Value)
                : new ExchangeNotFoundException(match.Groups["name"].Value);
        }

        if (reason is { ReplyCode: PreconditionFailed })
        {
            return new PreconditionFailedException($"{operation}: {reason.ReplyText}");
        }

        var detail = reason is null ? e.Message : $"{reason.ReplyText} ({reason.ReplyCode})";
        return new TransportException($"{operation} failed: {detail}", e);
    }

    [GeneratedRegex("no (?<kind>queue|exchange) '(?<name>[^']*)'")]
    private static partial Regex MissingEntity();
}
