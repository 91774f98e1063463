using System.Text;
using ClusterQueue.Client;
using ClusterQueue.Node.Worker;
using ClusterQueue.Protocol;
using ClusterQueue.Results;
using ClusterQueue.Transport;
using static ClusterQueue.Tests.Node.WorkerHarness;

namespace ClusterQueue.Tests.Node.Worker;

public sealed class BadMessageTests
{
    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task An_unknown_task_goes_to_the_dead_letter_queue_with_its_reason_and_a_NotRegistered_result(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);

        var sent = await worker.App.SendTaskAsync("tasks.does_not_exist");
        var result = await worker.ResultAsync(sent.Id);
        var dead = (await TakeAsync(worker.App.Transport, "celery.dlq", 1)).Single();

        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal(new ExceptionInfo("NotRegistered", [System.Text.Json.Nodes.JsonValue.Create("tasks.does_not_exist")], "celery.exceptions").ToJson().ToJsonString(), result.Result!.ToJsonString());
        Assert.Null(result.Traceback);
        Assert.Equal(sent.Id, dead.Message.Headers["id"]);
        Assert.Contains("unknown task 'tasks.does_not_exist'", (string)dead.Message.Headers[DeadLetter.ReasonHeader]!);
        var rejected = await worker.EventAsync(sent.Id, TaskEventKind.Rejected);
        Assert.Equal(TaskStates.Rejected, rejected.State);
        Assert.Equal(1, worker.Stats.Rejected);
        Assert.Equal(0, worker.Stats.Received);
    }

    [Theory]
    [InlineData(TestBroker.Memory)]
    [InlineData(TestBroker.Sqlite)]
    public async Task An_undecodable_message_goes_to_the_dead_letter_queue_and_the_node_keeps_serving(TestBroker broker)
    {
        await using var worker = await StartAsync(broker);
        var garbage = new Envelope
        {
            Body = Encoding.UTF8.GetBytes("[[1, 2], {}"),
            Headers = new Dictionary<string, object?> { ["task"] = "tasks.add", ["id"] = "broken-1", ["lang"] = "py" },
        };

        await worker.App.Transport.PublishAsync("", "celery", garbage);
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);
        var after = await worker.SendAsync("tasks.add", 20, 22);

        Assert.Equal(42, (await worker.ResultAsync(after.Id)).Result!.GetValue<long>());
        var dead = (await TakeAsync(worker.App.Transport, "celery.dlq", 1)).Single();
        Assert.Equal("[[1, 2], {}", Encoding.UTF8.GetString(dead.Message.Body.Span));
        var reason = (string)dead.Message.Headers[DeadLetter.ReasonHeader]!;
        Assert.StartsWith("undecodable message: ", reason);
        Assert.Equal(reason, rejected.Reason);
        Assert.Equal("broken-1", rejected.TaskId);
    }

    [Fact]
    public async Task A_content_type_outside_the_accept_list_is_dead_lettered_with_the_type_named()
    {
        await using var worker = await StartAsync(TestBroker.Memory);
        var message = worker.App.Codec.Encode(new TaskMessage { Task = "tasks.add", Id = "pickled-1", Args = [1, 2] });
        var pickled = message with { Properties = message.Properties with { ContentType = "application/x-python-serialize" } };

        await worker.App.Transport.PublishAsync("", "celery", pickled);
        var rejected = await worker.Harness.WaitForEventAsync(e => e.Kind == TaskEventKind.Rejected);

        Assert.Contains("application/x-python-serialize", rejected.Reason);
        Assert.Null(await worker.App.Results.GetAsync("pickled-1"));
        Assert.Single(await TakeAsync(worker.App.Transport, "celery.dlq", 1));
    }

    [Fact]
    public async Task Dead_letter_queues_are_declared_per_consumed_queue_and_the_task_queue_has_no_arguments()
    {
        await using var worker = await StartAsync(TestBroker.Memory, new WorkerSettings { Concurrency = 1, Queues = ["celery", "reports"] });

        var sent = await worker.App.SendTaskAsync("tasks.nope", options: new SendOptions { Queue = "reports" });
        await worker.EventAsync(sent.Id, TaskEventKind.Rejected);

        var dead = (await TakeAsync(worker.App.Transport, "reports.dlq", 1)).Single();
        Assert.Equal(sent.Id, dead.Message.Headers["id"]);
        // Redeclaring the Celery queue plainly must still succeed: it was never declared with dead-letter arguments.
        await worker.App.Transport.DeclareQueueAsync(new QueueDeclaration("celery"));
    }
}
