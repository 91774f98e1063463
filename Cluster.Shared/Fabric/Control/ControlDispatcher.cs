using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterQueue.Fabric.Control;

/// <summary>
/// Runs a request with the node's handler set; both carriers call it, so a command answers the same on either plane.
/// An unknown method replies <c>{"error": "KeyError('&lt;name&gt;')"}</c>, and a handler's exception replies with its repr.
/// </summary>
public sealed class ControlDispatcher(string nodeName, ControlHandlerRegistry handlers, ILogger? logger = null)
{
    private readonly ILogger logger = logger ?? NullLogger.Instance;

    public string NodeName { get; } = nodeName;

    public async Task<ControlResponse> DispatchAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!handlers.TryGet(request.Method, out var handler))
        {
            logger.LogWarning("{Node}: no such control command {Method}", NodeName, request.Method);
            return ControlResponse.Error($"KeyError({Protocol.PythonRepr.Repr(request.Method)})");
        }

        try
        {
            return await handler.HandleAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Node}: control command {Method} failed", NodeName, request.Method);
            return ControlResponse.Error(ControlCommandException.ReprOf(e));
        }
    }
}
