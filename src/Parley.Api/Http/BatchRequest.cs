using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Parley.Api.Bots;

namespace Parley.Api.Http;

/// <summary>
/// The batch endpoints (`/v2/bots/batch`, `/v2/bots/scheduled/batch`): up to 100 create bodies, each created
/// or refused on its own, reported by index with the item's `extra` so a client can match results to rows.
/// </summary>
public static class BatchRequest
{
    public const int MaxItems = 100;

    /// <param name="createOne">Creates one item from its parsed body and raw JSON; returns its id or the problem.</param>
    /// <param name="afterAll">Runs once after every item (for example, one commit for all of them).</param>
    public static async Task<IResult> HandleAsync<T>(
        HttpRequest request, Func<T, string, Task<(string? Id, ApiProblem? Problem)>> createOne, Func<Task>? afterAll = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(createOne);
        var (items, _, error) = await RequestBody.ReadWithTextAsync<List<JsonElement>>(request, JsonValueKind.Array);
        if (error is not null)
        {
            return error;
        }

        if (items!.Count is 0 or > MaxItems)
        {
            return ApiError.Validation("body", $"must hold 1 to {MaxItems} bot bodies");
        }

        var created = new List<BatchCreated>();
        var errors = new List<BatchError>();
        for (var index = 0; index < items.Count; index++)
        {
            var item = items[index];
            JsonElement? extra = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("extra", out var e) && e.ValueKind == JsonValueKind.Object ? e.Clone() : null;
            if (!TryParse<T>(item, out var body, out var problem))
            {
                errors.Add(new BatchError(index, "VALIDATION_ERROR", problem, [], extra));
                continue;
            }

            var (id, refused) = await createOne(body, item.GetRawText());
            if (id is not null)
            {
                created.Add(new BatchCreated(index, id, extra));
            }
            else
            {
                var envelope = refused!.Envelope;
                errors.Add(new BatchError(index, envelope.Code, envelope.Message, envelope.Details ?? [], extra));
            }
        }

        if (afterAll is not null)
        {
            await afterAll();
        }

        return Results.Json(new BatchResult(true, created, errors), ApiJson.Options, statusCode: 201);
    }

    private static bool TryParse<T>(JsonElement item, out T body, out string problem) where T : class
    {
        body = null!;
        problem = "";
        if (item.ValueKind != JsonValueKind.Object)
        {
            problem = "must be a JSON object";
            return false;
        }

        try
        {
            body = item.Deserialize<T>(ApiJson.Options)!;
            return true;
        }
        catch (JsonException ex)
        {
            problem = $"{RequestBody.FieldOf(ex.Path)} has the wrong type";
            return false;
        }
    }
}
