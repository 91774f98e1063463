using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterQueue.Results;

/// <summary>
/// The <c>file://</c> result backend: Celery's FilesystemBackend, one file per key in one directory, which a Python
/// Celery process configured with the same <c>result_backend = 'file:///dir'</c> reads and writes too.
/// </summary>
/// <remarks>
/// <para>
/// Keys and contents are those of Celery's key-value backends: <c>celery-task-meta-&lt;task id&gt;</c> holds the task's
/// JSON meta (status, result, traceback, children, date_done, the result_extended fields, task_id) and
/// <c>celery-taskset-meta-&lt;group id&gt;</c> a saved group, <c>{"result": GroupResult.as_tuple()}</c>. Celery reads
/// JSON regardless of spacing; ours is written without the blanks that Python's json.dumps puts after separators.
/// </para>
/// <para>
/// A file is written to a temporary name in the same directory and renamed over the key, so a reader (of either
/// language) sees the old file or the new one, never half of one. Celery itself writes in place.
/// </para>
/// <para>
/// Celery's file backend has no expiry on read: a result stays until it is forgotten or until the cleanup
/// (Celery's celery.backend_cleanup, our sweeper) deletes the files whose modification time is older than the
/// expiry. This backend does the same, so a result can be read after its expiry until the next sweep. It stamps each
/// file's modification time with its own clock, which is the system clock outside tests.
/// </para>
/// <para>
/// The precedence rule (a late STARTED after SUCCESS is ignored) is checked against the file as read just before the
/// write. Writes of this backend are serialized within the process; between processes there is no lock, as there is
/// none in Celery's, so two processes writing the same task at the same moment may both write.
/// </para>
/// <para>
/// There is no atomic counter in a directory, so chords cannot count their parts here (<see cref="CountsChordParts"/> is
/// false): like Celery with this backend, they join with a <c>celery.chord_unlock</c> task that polls the members.
/// </para>
/// </remarks>
public sealed class FileResultBackend : IResultBackend
{
    internal const string TaskKeyPrefix = "celery-task-meta-";
    internal const string GroupKeyPrefix = "celery-taskset-meta-";
    internal const string ChordKeyPrefix = "chord-unlock-";

    // Temporary files start with a dot, so neither Celery's cleanup nor the sweep below mistakes them for keys.
    private const string TemporaryPrefix = ".cq-write-";

    private static readonly string[] SweptPrefixes = [TaskKeyPrefix, GroupKeyPrefix, ChordKeyPrefix];

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    // Keeps this process's read-check-write of one key from interleaving with another of its own.
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private readonly ResultWaiters waiters = new();
    private readonly ResultSettings settings;
    private readonly TimeProvider time;

    /// <summary>Uses <paramref name="directory"/>, which must exist and be writable, as Celery requires.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist; the message names the setting.</exception>
    /// <exception cref="UnauthorizedAccessException">A file cannot be written there; the message names the setting.</exception>
    public FileResultBackend(string directory, ResultSettings? settings = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        this.settings = settings ?? new ResultSettings();
        this.settings.Validate();
        this.time = time ?? TimeProvider.System;
        Directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(Directory))
        {
            throw new DirectoryNotFoundException(
                $"The directory '{Directory}' of the file result backend (cluster-queue.result.backend) does not exist; create it first, as Celery's file backend also requires.");
        }

        // Celery's _do_directory_test: fail at start, not at the first result.
        var probe = Path.Combine(Directory, ".fs-backend-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(probe, "test value"u8.ToArray());
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException(
                $"The directory '{Directory}' of the file result backend (cluster-queue.result.backend) cannot be written to: {e.Message}", e);
        }
    }

    /// <summary>The directory holding the files, as a full path.</summary>
    public string Directory { get; }

    public async Task<bool> StoreAsync(TaskResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureStorable();
        var path = KeyPath(TaskKeyPrefix, result.TaskId);
        var now = time.GetUtcNow();
        var stamped = result.DateDone is null ? result with { DateDone = now.UtcDateTime } : result;
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ReadAsync(path, cancellationToken).ConfigureAwait(false) is { } text
                && !ResultPrecedence.Accepts(TaskResultJson.Parse(text, result.TaskId).Status, result.Status))
            {
                return false;
            }

            await WriteAsync(path, TaskResultJson.Serialize(stamped), now, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }

        waiters.Notify(result.TaskId);
        return true;
    }

    public async Task<TaskResult?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        var text = await ReadAsync(KeyPath(TaskKeyPrefix, taskId), cancellationToken).ConfigureAwait(false);
        return text is null ? null : TaskResultJson.Parse(text, taskId);
    }

    public Task<TaskResult> WaitAsync(string taskId, TimeSpan? timeout, CancellationToken cancellationToken = default) =>
        waiters.WaitAsync(taskId, ct => GetAsync(taskId, ct), timeout, settings.PollingInterval, time, cancellationToken);

    public Task<bool> ForgetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskId);
        return Task.FromResult(Delete(KeyPath(TaskKeyPrefix, taskId)));
    }

    /// <summary>Deletes the files of results, groups and chord locks last written at or before <paramref name="now"/> minus the expiry, as Celery's cleanup does.</summary>
    public Task<int> SweepExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var cutoff = (now - settings.Expires).UtcDateTime;
        var deleted = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            if (SweptPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal))
                && File.GetLastWriteTimeUtc(path) <= cutoff && Delete(path))
            {
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }

    public async Task SaveGroupAsync(string groupId, IReadOnlyList<string> memberIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(memberIds);
        var path = KeyPath(GroupKeyPrefix, groupId);
        var meta = new JsonObject { ["result"] = GroupTuple.Build(groupId, memberIds) };
        await WriteAsync(path, meta.ToJsonString(), time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>?> RestoreGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        var text = await ReadAsync(KeyPath(GroupKeyPrefix, groupId), cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return null;
        }

        JsonNode? meta;
        try
        {
            meta = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ResultFormatException(groupId, "(body)", "stored group is not valid JSON: " + e.Message, e);
        }

        return GroupTuple.Members((meta as JsonObject)?["result"], groupId);
    }

    public Task<bool> ForgetGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        return Task.FromResult(Delete(KeyPath(GroupKeyPrefix, groupId)));
    }

    public bool CountsChordParts => false;

    public Task<bool> ChordPartReturnAsync(string groupId, string memberId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(
            "the file:// result backend cannot count chord parts (a directory has no atomic counter, and Celery's file backend has no incr): "
            + "chords on it join with a celery.chord_unlock task instead");

    public ValueTask DisposeAsync()
    {
        writeLock.Dispose();
        return ValueTask.CompletedTask;
    }

    // Celery joins the directory and the key as they are; an id with a path separator would leave the directory.
    private string KeyPath(string prefix, string id)
    {
        if (id.Length == 0 || id.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
        {
            throw new ArgumentException($"'{id}' cannot name a file of the file:// result backend: it is empty or holds a path separator", nameof(id));
        }

        return Path.Combine(Directory, prefix + id);
    }

    /// <summary>
    /// The file's text, or null when there is none. Celery writes a file in place (truncate, then write), so a reader
    /// can catch it empty or half written: such a file is read again a few times before its text is taken as it is.
    /// </summary>
    private static async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path, Utf8, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                return null;
            }

            if (attempt == PartialReadAttempts || IsCompleteJson(text))
            {
                return text;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    private const int PartialReadAttempts = 6;

    private static bool IsCompleteJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task WriteAsync(string path, string text, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(Directory, TemporaryPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllTextAsync(temporary, text, Utf8, cancellationToken).ConfigureAwait(false);
            // The sweep judges age by this time, so it follows the backend's clock.
            File.SetLastWriteTimeUtc(temporary, now.UtcDateTime);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static bool Delete(string path)
    {
        try
        {
            // File.Delete says nothing about a missing file; the check tells forget's caller whether there was one.
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }
}
