using Microsoft.AspNetCore.Http;

namespace Parley.Api.Http;

/// <summary>The success envelopes of API.md.</summary>
public static class ApiResults
{
    public static IResult Ok<T>(T data, int status = 200) =>
        Results.Json(new { success = true, data }, ApiJson.Options, statusCode: status);

    public static IResult Created<T>(T data) => Ok(data, 201);

    public static IResult List<T>(IReadOnlyList<T> data, string? cursor, string? prevCursor) =>
        Results.Json(new { success = true, data, cursor, prev_cursor = prevCursor }, ApiJson.Options);
}
