using System.Text.Json.Nodes;
using ClusterQueue.Results;

namespace ClusterQueue.Tests.Results;

public sealed class TaskResultJsonTests
{
    public static TheoryData<string> FixtureFiles => new(ResultFixtures.Files);

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void RpcBody_RoundTripsCeleryCapture_SameValuesAndKeyOrder(string file)
    {
        var captured = ResultFixtures.RpcResultBody(file);

        var written = TaskResultJson.Serialize(TaskResultJson.Parse(captured), TaskResultLayout.RpcBody);

        ResultFixtures.AssertSameJson(captured, written);
        Assert.Equal(ResultFixtures.KeysInOrder(captured), ResultFixtures.KeysInOrder(written));
        Assert.Equal(["task_id", "status", "result", "traceback", "children"], ResultFixtures.KeysInOrder(written));
    }

    [Fact]
    public void Parse_BuiltinFailureCapture_ReadsExceptionIdentityAndTraceback()
    {
        var result = TaskResultJson.Parse(ResultFixtures.RpcResultBody("result-failure-builtin-exception.json"));

        Assert.Equal("51c92c3d-bd8b-4387-8e83-a0dfb46f53a2", result.TaskId);
        Assert.Equal(TaskStates.Failure, result.Status);
        Assert.Equal(new ExceptionInfo("ValueError", [JsonValue.Create("intentional failure")], "builtins").ToJson().ToJsonString(), result.Exception!.ToJson().ToJsonString());
        Assert.EndsWith("ValueError: intentional failure\n", result.Traceback, StringComparison.Ordinal);
        Assert.Null(result.DateDone);
    }

    [Fact]
    public void Parse_CustomFailureCapture_KeepsEveryArgAndTheModule()
    {
        var exception = TaskResultJson.Parse(ResultFixtures.RpcResultBody("result-failure-custom-exception.json")).Exception!;

        Assert.Equal("CustomError", exception.ExcType);
        Assert.Equal("tasks", exception.ExcModule);
        Assert.Equal("custom failure", (string?)exception.ExcMessage[0]);
        Assert.Equal(42, (int?)exception.ExcMessage[1]);
    }

    [Fact]
    public void Parse_ExpiredCapture_IsRevokedWithReasonExpiredAndNoTraceback()
    {
        var result = TaskResultJson.Parse(ResultFixtures.RpcResultBody("task-expired.json"));

        Assert.Equal(TaskStates.Revoked, result.Status);
        Assert.Null(result.Traceback);
        Assert.Equal(ExceptionInfo.Revoked("expired").ToJson().ToJsonString(), result.Result!.ToJsonString());
    }

    [Fact]
    public void Revoked_Factory_MatchesCapturedBody()
    {
        var captured = ResultFixtures.RpcResultBody("task-expired.json");

        var written = TaskResultJson.Serialize(TaskResult.Revoked("8c0b342c-ab0c-464f-8bb6-f46d091c67cf", "expired"), TaskResultLayout.RpcBody);

        ResultFixtures.AssertSameJson(captured, written);
    }

    [Fact]
    public void Succeeded_Factory_MatchesCapturedBody()
    {
        var captured = ResultFixtures.RpcResultBody("task-add-plain-rpc.json");

        var written = TaskResultJson.Serialize(TaskResult.Succeeded("512666b8-7b28-45ad-9596-971c97bfd8c3", 4), TaskResultLayout.RpcBody);

        Assert.Equal(captured.Replace(": ", ":", StringComparison.Ordinal).Replace(", ", ",", StringComparison.Ordinal), written);
    }

    [Fact]
    public void BackendMeta_HasCeleryKeyOrderAndMicrosecondDateDone()
    {
        var result = TaskResult.Succeeded("t-1", 4) with { DateDone = new DateTime(2026, 11, 21, 9, 35, 45, DateTimeKind.Utc).AddTicks(5_866_889) };

        var json = TaskResultJson.Serialize(result);

        Assert.Equal(["status", "result", "traceback", "children", "date_done", "task_id"], ResultFixtures.KeysInOrder(json));
        Assert.Equal("2026-11-21T09:35:45.586688", (string?)JsonNode.Parse(json)!["date_done"]);
    }

    [Fact]
    public void BackendMeta_WithExtendedFields_WritesThemBeforeTaskIdAndReadsThemBack()
    {
        var result = TaskResult.Succeeded("t-2", 7) with
        {
            DateDone = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            Name = "tasks.add",
            Args = new JsonArray(3, 4),
            Kwargs = new JsonObject { ["z"] = 0 },
            Worker = "celery@vm",
            Retries = 2,
            Queue = "celery",
        };

        var json = TaskResultJson.Serialize(result);
        var back = TaskResultJson.Parse(json);

        Assert.Equal(["status", "result", "traceback", "children", "date_done", "name", "args", "kwargs", "worker", "retries", "queue", "task_id"], ResultFixtures.KeysInOrder(json));
        Assert.Equal("2026-01-02T03:04:05.000000", (string?)JsonNode.Parse(json)!["date_done"]);
        Assert.Equal(("tasks.add", "celery@vm", 2, "celery"), (back.Name, back.Worker, back.Retries, back.Queue));
        Assert.Equal("[3,4]", back.Args!.ToJsonString());
        Assert.Equal("""{"z":0}""", back.Kwargs!.ToJsonString());
        Assert.Equal(result.DateDone, back.DateDone);
    }

    [Theory]
    [InlineData("2026-11-21T09:35:45.586688", 5866880)]
    [InlineData("2026-11-21T09:35:45", 0)]
    [InlineData("2026-11-21T09:35:45.5866889", 5866889)]
    [InlineData("2026-11-21T10:35:45.586688+01:00", 5866880)]
    public void Parse_DateDoneVariants_ReadAsUtc(string dateDone, long fractionTicks)
    {
        var result = TaskResultJson.Parse($$"""{"status": "SUCCESS", "result": 1, "date_done": "{{dateDone}}", "task_id": "t"}""");

        Assert.Equal(new DateTime(2026, 11, 21, 9, 35, 45, DateTimeKind.Utc).AddTicks(fractionTicks), result.DateDone);
        Assert.Equal(DateTimeKind.Utc, result.DateDone!.Value.Kind);
    }

    [Fact]
    public void Parse_NullResultAndNoChildren_GivesNullAndEmptyChildren()
    {
        var result = TaskResultJson.Parse("""{"task_id": "t", "status": "SUCCESS", "result": null, "traceback": null}""");

        Assert.Null(result.Result);
        Assert.Equal("[]", result.Children!.ToJsonString());
    }

    [Theory]
    [InlineData("{not json", "(body)")]
    [InlineData("[1, 2]", "(body)")]
    [InlineData("""{"task_id": "t-9", "result": 1}""", "status")]
    [InlineData("""{"task_id": "t-9", "status": 5}""", "status")]
    [InlineData("""{"task_id": "t-9", "status": "SUCCESS", "date_done": "yesterday"}""", "date_done")]
    [InlineData("""{"task_id": "t-9", "status": "SUCCESS", "retries": "two"}""", "retries")]
    [InlineData("""{"task_id": "t-9", "status": "SUCCESS", "traceback": ["x"]}""", "traceback")]
    public void Parse_BadBody_ThrowsNamingTaskAndField(string json, string field)
    {
        var error = Assert.Throws<ResultFormatException>(() => TaskResultJson.Parse(json, "t-9"));

        Assert.Equal("t-9", error.TaskId);
        Assert.Equal(field, error.Field);
        Assert.Contains("t-9", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoTaskIdAnywhere_ThrowsNamingTheField()
    {
        var error = Assert.Throws<ResultFormatException>(() => TaskResultJson.Parse("""{"status": "SUCCESS"}"""));

        Assert.Equal("task_id", error.Field);
    }

    [Fact]
    public void Started_Factory_CarriesPidAndHostname()
    {
        var json = TaskResultJson.Serialize(TaskResult.Started("t", 9447, "celery@vm"), TaskResultLayout.RpcBody);

        Assert.Equal("""{"task_id":"t","status":"STARTED","result":{"pid":9447,"hostname":"celery@vm"},"traceback":null,"children":[]}""", json);
    }

    [Fact]
    public void Serialize_TracebackWithAngleBrackets_KeepsThemReadable()
    {
        var result = new TaskResult { TaskId = "t", Status = TaskStates.Failure, Traceback = "File \"<string>\", line 1" };

        Assert.Contains("\"File \\\"<string>\\\", line 1\"", TaskResultJson.Serialize(result), StringComparison.Ordinal);
    }
}
