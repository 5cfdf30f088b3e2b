using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Api.Sfu.Placement;
using Parley.Core.Meetings;
using Parley.Sfu;
using Parley.Sfu.Meetings;

namespace Parley.Api.Sfu;

/// <summary>
/// Wires the media engine into the process: the `sfu` role starts it (binds the worker sockets), the
/// `api` role serves signaling against it in one process, or, without the sfu role, relays signaling to
/// the SFU node each meeting is placed on (docs/capacity.md, "Multi-node placement").
/// </summary>
public static class SfuServiceCollectionExtensions
{
    public static IServiceCollection AddParleySfu(this IServiceCollection services, bool sfuRole)
    {
        services.AddSingleton(sp =>
        {
            var rtc = sp.GetRequiredService<RtcOptions>();
            var server = sp.GetRequiredService<ServerOptions>();
            var listen = rtc.EffectiveListenAddress(server.Host);
            var ice = rtc.StunServers.Select(url => new IceServer([url])).ToList();
            if (rtc.TurnServerUrls.Length > 0 && rtc.TurnSecret is null)
            {
                ice.Add(new IceServer(rtc.TurnServerUrls, rtc.TurnUsername, rtc.TurnCredential));
            }

            return new SfuEngine(
                new SfuOptions
                {
                    Workers = rtc.Workers,
                    MinPort = rtc.MinPort,
                    MaxPort = rtc.MaxPort,
                    SocketBufferBytes = rtc.SocketBufferBytes,
                    DropSilentAudio = rtc.DropSilentAudio,
                    ListenAddress = listen,
                    AnnouncedAddress = rtc.AnnouncedIp is { } announced ? IPAddress.Parse(announced) : null,
                    IceServers = ice,
                    TurnSecret = rtc.TurnSecret,
                    TurnUrls = rtc.TurnSecret is null ? [] : rtc.TurnServerUrls,
                },
                // An SFU node checks that each join's meeting is placed on it (WRONG_NODE otherwise).
                sfuRole
                    ? ActivatorUtilities.CreateInstance<PlacementMeetingAuthority>(sp, sp.GetRequiredService<IMeetingAuthority>())
                    : sp.GetRequiredService<IMeetingAuthority>(),
                sp.GetRequiredService<ILogger<SfuEngine>>());
        });
        services.RemoveAll<IMeetingPresence>();
        services.AddSingleton<IMeetingPresence, SfuMeetingPresence>();
        services.AddSingleton<SfuMetricsExporter>();
        services.AddSingleton<SfuNodeIdentity>();
        services.AddSingleton<SfuPlacementService>();
        services.AddSingleton<SignalingProxy>();
        if (sfuRole)
        {
            services.AddHostedService<SfuHostedService>();
            // After the engine: registers once the sockets are bound, stops (deregisters) before they close.
            services.AddHostedService<SfuNodeRegistration>();
        }

        return services;
    }
}

/// <summary>Participant counts and closing for the meetings API, from the live rooms.</summary>
internal sealed class SfuMeetingPresence(SfuEngine engine) : IMeetingPresence
{
    public int ParticipantCount(string meetingId) => engine.ParticipantCount(meetingId);

    public void CloseMeeting(string meetingId, string reason) => engine.CloseRoom(meetingId, reason);
}
