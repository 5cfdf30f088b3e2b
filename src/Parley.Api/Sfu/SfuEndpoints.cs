using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Api.Sfu.Placement;
using Parley.Sfu;
using Parley.Sfu.Signaling;

namespace Parley.Api.Sfu;

/// <summary>The signaling WebSocket and the media statistics endpoint.</summary>
public static class SfuEndpoints
{
    public static IEndpointRouteBuilder MapParleySfu(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.Map("/rtc/ws", async (HttpContext context, SfuEngine engine, ILoggerFactory loggers) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WEBSOCKET_REQUIRED",
                    detail: "Connect with a WebSocket (docs/signaling.md).");
            }

            if (!engine.IsStarted)
            {
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "SFU_UNAVAILABLE",
                    detail: "This process does not run the sfu role.");
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = TimeSpan.FromSeconds(15),
            });
            var session = new SignalingSession(socket, engine, loggers.CreateLogger<SignalingSession>());
            await session.RunAsync(context.RequestAborted);
            return Results.Empty;
        }).ExcludeFromDescription();

        endpoints.MapGet("/api/stats", (SfuEngine engine) =>
        {
            var rooms = engine.Rooms.Select(room =>
            {
                lock (room.Worker.Sync)
                {
                    return new MeetingStats(room.MeetingId, room.ParticipantCount, room.LobbyCount, room.ProducerCount, room.ConsumerCount, room.Worker.Index);
                }
            }).ToList();
            var metrics = engine.Metrics;
            return Results.Ok(new SfuStats(
                rooms.Count,
                rooms.Sum(r => r.Participants),
                engine.Workers.Select(w => new WorkerLoad(w.Index, w.Port, w.RoomCount, w.ParticipantCount)).ToList(),
                rooms,
                new PacketStats(metrics.PacketsIn, metrics.PacketsOut, metrics.BytesIn, metrics.BytesOut,
                    metrics.Drops(Parley.Sfu.Metrics.DropReason.UnknownStream) + metrics.Drops(Parley.Sfu.Metrics.DropReason.MalformedRtcp)
                    + engine.Workers.Sum(w => w.UnroutedPackets))));
        }).WithName("SfuStats").WithTags("Operations").WithSummary("Live meetings, participants and per-worker load of this SFU node.");
        return endpoints;
    }

    /// <summary>
    /// /rtc/ws of an api process without the sfu role: the same protocol, relayed to the SFU node the meeting
    /// is placed on (<see cref="SignalingProxy"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapParleySignalingProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.Map("/rtc/ws", async (HttpContext context, SignalingProxy proxy) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WEBSOCKET_REQUIRED",
                    detail: "Connect with a WebSocket (docs/signaling.md).");
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = TimeSpan.FromSeconds(15),
            });
            await proxy.RunAsync(socket, context.RequestAborted);
            return Results.Empty;
        }).ExcludeFromDescription();
        return endpoints;
    }

    public sealed record SfuStats(int Meetings, int Participants, IReadOnlyList<WorkerLoad> Workers, IReadOnlyList<MeetingStats> Rooms, PacketStats Packets);

    public sealed record WorkerLoad(int Index, int Port, int Rooms, int Participants);

    public sealed record MeetingStats(string MeetingId, int Participants, int Lobby, int Producers, int Consumers, int Worker);

    public sealed record PacketStats(long Received, long Sent, long BytesReceived, long BytesSent, long Dropped);
}
