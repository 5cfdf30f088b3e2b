using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests.Meetings;

/// <summary>
/// Issue 6: the browser meeting client at /meet/{meeting_id}, driven in headless Chromium with fake camera
/// and microphone against a real `parley serve` (signaling on /rtc/ws, the SFU on loopback UDP).
/// </summary>
[Collection(MeetingCollection.Name)]
public sealed class MeetingClientTests(MeetingEnvironment environment, ITestOutputHelper output)
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 45_000 };
    private static readonly LocatorAssertionsToBeHiddenOptions Hidden = new() { Timeout = 45_000 };
    private static readonly LocatorAssertionsToHaveCountOptions Count = new() { Timeout = 60_000 };
    private static readonly LocatorAssertionsToHaveTextOptions Text = new() { Timeout = 45_000 };

    [Fact]
    public async Task Three_participants_see_and_hear_each_other_then_one_mutes_one_chats_and_one_leaves()
    {
        var meetingId = await environment.CreateMeetingAsync("Three of us");
        await using var scene = new MeetingScene(environment, output);
        var alice = await scene.JoinAsGuestAsync(meetingId, "Alice");
        var bob = await scene.JoinAsGuestAsync(meetingId, "Bob");
        // Carol is on a phone-sized screen: the same meeting must work and fit there.
        var carol = await scene.JoinAsGuestAsync(meetingId, "Carol", phone: true);
        Participant[] everyone = [alice, bob, carol];
        var ids = new Dictionary<Participant, string>();
        foreach (var participant in everyone)
        {
            ids[participant] = await participant.ParticipantIdAsync();
        }

        foreach (var participant in everyone)
        {
            await scene.StepAsync($"{participant.Name} shows two remote videos, playing, with the others' names", async () =>
            {
                await Expect(participant.RemoteTiles).ToHaveCountAsync(2, Count);
                await Expect(participant.PlayingRemoteTiles).ToHaveCountAsync(2, Count);
                foreach (var other in everyone.Where(p => p != participant))
                {
                    await Expect(participant.Tile(ids[other]).GetByTestId("tile-name")).ToHaveTextAsync(other.Name, Text);
                }
            });
        }

        foreach (var participant in everyone)
        {
            await scene.StepAsync($"{participant.Name}'s inbound-rtp packet counts (2 audio, 2 video) grow",
                () => participant.WaitForGrowingInboundAsync(perKind: 2));
        }

        await scene.StepAsync("the camera is published with three simulcast layers (it is at least 640 px wide)", async () =>
        {
            Assert.Equal(3, await alice.Page.EvaluateAsync<int>("() => window.parley.cameraLayers"));
        });

        await scene.StepAsync("the SFU's transport-cc feedback lets Chromium raise its send estimate above its 300 kbps start", async () =>
        {
            // availableOutgoingBitrate is Chromium's bandwidth estimate for the publish connection; without
            // feedback from the receiver (the SFU) it stays at the start value (interop notes).
            await alice.Page.WaitForFunctionAsync("""
                async () => {
                  let estimate = 0;
                  (await window.parley.publishPc.getStats()).forEach(s => {
                    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate) estimate = s.availableOutgoingBitrate;
                  });
                  return estimate > 600000;
                }
                """, null, new() { Timeout = 60_000, PollingInterval = 1000 });
        });

        await scene.StepAsync("the phone-sized page has no horizontal overflow and its controls are on screen", async () =>
        {
            Assert.True(await carol.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
                "The meeting page scrolls sideways on a 390 px wide screen.");
            await Expect(carol.Page.GetByTestId("leave-button")).ToBeInViewportAsync();
            await Expect(carol.Page.GetByTestId("mute-button")).ToBeInViewportAsync();
        });

        await scene.StepAsync("Bob mutes his microphone and the others see the muted indicator on his tile", async () =>
        {
            foreach (var other in new[] { alice, carol })
            {
                await Expect(other.Tile(ids[bob]).GetByTestId("muted-indicator")).ToBeHiddenAsync(Hidden);
            }

            await bob.Page.GetByTestId("mute-button").ClickAsync();
            foreach (var other in new[] { alice, carol })
            {
                await Expect(other.Tile(ids[bob]).GetByTestId("muted-indicator")).ToBeVisibleAsync(Visible);
            }
        });

        const string Greeting = "Hello from Alice 👋";
        await scene.StepAsync("Alice's chat message reaches Bob and Carol", async () =>
        {
            await alice.Page.GetByTestId("chat-button").ClickAsync();
            await alice.Page.GetByTestId("chat-input").FillAsync(Greeting);
            await alice.Page.GetByTestId("chat-send").ClickAsync();
            await Expect(alice.Page.GetByTestId("chat-message").Filter(new() { HasText = Greeting })).ToHaveCountAsync(1, Count);
            foreach (var other in new[] { bob, carol })
            {
                await other.Page.GetByTestId("chat-button").ClickAsync();
                var message = other.Page.GetByTestId("chat-message").Filter(new() { HasText = Greeting });
                await Expect(message).ToHaveCountAsync(1, Count);
                await Expect(message.GetByTestId("chat-name")).ToHaveTextAsync("Alice", Text);
                // Close the panel again so the grid is back to full size.
                await other.Page.GetByTestId("chat-button").ClickAsync();
            }
        });

        await scene.StepAsync("Bob shares his screen: a second video track, shown as a screen tile to the others", async () =>
        {
            // Chromium's fake UI and fake devices answer getDisplayMedia with a synthetic screen.
            await bob.Page.GetByTestId("screen-button").ClickAsync();
            foreach (var other in new[] { alice, carol })
            {
                var screen = other.Page.Locator($"[data-testid=screen-tile][data-participant-id='{ids[bob]}']");
                await Expect(screen).ToHaveCountAsync(1, Count);
                await Expect(screen).ToHaveAttributeAsync("data-video-state", "playing", new() { Timeout = 60_000 });
            }

            await bob.Page.GetByTestId("screen-button").ClickAsync();
            foreach (var other in new[] { alice, carol })
            {
                await Expect(other.Page.Locator($"[data-testid=screen-tile][data-participant-id='{ids[bob]}']")).ToHaveCountAsync(0, Count);
            }
        });

        await scene.StepAsync("Carol leaves and her tile goes from the others' grids", async () =>
        {
            await carol.Page.GetByTestId("leave-button").ClickAsync();
            await Expect(carol.Page.GetByTestId("left-screen")).ToBeVisibleAsync(Visible);
            foreach (var other in new[] { alice, bob })
            {
                await Expect(other.Tile(ids[carol])).ToHaveCountAsync(0, Count);
                await Expect(other.RemoteTiles).ToHaveCountAsync(1, Count);
                await Expect(other.Page.GetByTestId("participant-list").GetByTestId("participant-item")).ToHaveCountAsync(2, Count);
            }
        });
    }

    [Fact]
    public async Task A_fourth_participant_over_MAX_PARTICIPANTS_is_refused_with_a_clear_message()
    {
        var meetingId = await environment.CreateMeetingAsync("Full house");
        await using var scene = new MeetingScene(environment, output);
        for (var i = 1; i <= MeetingEnvironment.MaxParticipants; i++)
        {
            await scene.JoinAsGuestAsync(meetingId, $"Member {i}");
        }

        var late = await scene.OpenAsync("Latecomer", $"/meet/{meetingId}");
        await scene.StepAsync("the fourth joiner sees 'This meeting is full'", async () =>
        {
            await late.PressJoinAsync();
            await Expect(late.Page.GetByTestId("error-screen")).ToBeVisibleAsync(Visible);
            await Expect(late.Page.GetByTestId("error-message")).ToHaveTextAsync("This meeting is full", Text);
            await Expect(late.Page.GetByTestId("error-code")).ToContainTextAsync("ROOM_FULL", new() { Timeout = 5_000 });
            await Expect(late.Page.GetByTestId("meeting")).ToBeHiddenAsync(Hidden);
        });
    }

    [Fact]
    public async Task A_malformed_forged_or_expired_token_shows_the_invalid_link_screen()
    {
        var meetingId = await environment.CreateMeetingAsync("Tokens");
        var minted = await environment.MintTokenAsync(meetingId, "token-tester", "Tess", host: false);
        var cases = new (string Name, string Token, string Code)[]
        {
            ("malformed", "not-a-token", "INVALID_TOKEN"),
            ("signed with another key", JwtForgery.SignedWithAnotherKey(minted), "INVALID_TOKEN"),
            ("expired", JwtForgery.Expired(minted, MeetingEnvironment.JwtSecret), "TOKEN_EXPIRED"),
        };

        await using var scene = new MeetingScene(environment, output);
        foreach (var (name, token, code) in cases)
        {
            var participant = await scene.OpenAsync($"Tess ({name})", $"/meet/{meetingId}?token={Uri.EscapeDataString(token)}");
            await scene.StepAsync($"a {name} token is refused with 'This link is invalid or has expired' ({code})", async () =>
            {
                await participant.PressJoinAsync();
                await Expect(participant.Page.GetByTestId("error-message")).ToHaveTextAsync("This link is invalid or has expired", Text);
                await Expect(participant.Page.GetByTestId("error-code")).ToContainTextAsync(code, new() { Timeout = 5_000 });
                // The token is not left in the address bar (it would end up in history and screenshots).
                Assert.DoesNotContain("token=", participant.Page.Url, StringComparison.Ordinal);
            });
        }
    }

    [Fact]
    public async Task The_lobby_holds_joiners_until_a_host_admits_or_denies_them()
    {
        var meetingId = await environment.CreateMeetingAsync("Behind the door", lobby: true);
        var hostToken = await environment.MintTokenAsync(meetingId, "host-hannah", "Hannah", host: true);
        var guestToken = await environment.MintTokenAsync(meetingId, "guest-gary", "Gary", host: false);
        var deniedToken = await environment.MintTokenAsync(meetingId, "guest-dana", "Dana", host: false);
        await using var scene = new MeetingScene(environment, output);

        var host = await scene.JoinWithTokenAsync(meetingId, "Hannah", hostToken);
        var guest = await scene.OpenAsync("Gary", $"/meet/{meetingId}?token={Uri.EscapeDataString(guestToken)}");
        await scene.StepAsync("Gary waits in the lobby and Hannah sees his request", async () =>
        {
            await guest.PressJoinAsync();
            await Expect(guest.Page.GetByTestId("lobby-waiting")).ToBeVisibleAsync(Visible);
            await Expect(guest.Page.GetByTestId("meeting")).ToBeHiddenAsync(Hidden);
            await Expect(host.Page.GetByTestId("lobby-entry").Filter(new() { HasText = "Gary" })).ToHaveCountAsync(1, Count);
            await Expect(host.RemoteTiles).ToHaveCountAsync(0, Count);
        });

        await scene.StepAsync("Hannah admits Gary: he joins and they see each other", async () =>
        {
            await host.Page.GetByTestId("lobby-entry").Filter(new() { HasText = "Gary" }).GetByTestId("admit-button").ClickAsync();
            await Expect(guest.Page.GetByTestId("meeting")).ToBeVisibleAsync(Visible);
            await Expect(guest.Page.GetByTestId("lobby-waiting")).ToBeHiddenAsync(Hidden);
            await Expect(host.Page.GetByTestId("lobby-entry")).ToHaveCountAsync(0, Count);
            await Expect(host.PlayingRemoteTiles).ToHaveCountAsync(1, Count);
            await Expect(guest.PlayingRemoteTiles).ToHaveCountAsync(1, Count);
        });

        var denied = await scene.OpenAsync("Dana", $"/meet/{meetingId}?token={Uri.EscapeDataString(deniedToken)}");
        await scene.StepAsync("Hannah denies Dana: Dana is told so", async () =>
        {
            await denied.PressJoinAsync();
            await Expect(denied.Page.GetByTestId("lobby-waiting")).ToBeVisibleAsync(Visible);
            await host.Page.GetByTestId("lobby-entry").Filter(new() { HasText = "Dana" }).GetByTestId("deny-button").ClickAsync();
            await Expect(denied.Page.GetByTestId("error-message")).ToHaveTextAsync("The host did not let you in", Text);
            await Expect(host.Page.GetByTestId("lobby-entry")).ToHaveCountAsync(0, Count);
            await Expect(host.RemoteTiles).ToHaveCountAsync(1, Count);
        });
    }

    [Fact]
    public async Task A_dropped_WebSocket_resumes_as_the_same_participant_and_media_keeps_flowing()
    {
        var meetingId = await environment.CreateMeetingAsync("Flaky network");
        await using var scene = new MeetingScene(environment, output);
        var alice = await scene.JoinAsGuestAsync(meetingId, "Alice");
        var bob = await scene.JoinAsGuestAsync(meetingId, "Bob");
        await scene.StepAsync("both receive media", async () =>
        {
            await alice.WaitForGrowingInboundAsync(perKind: 1);
            await bob.WaitForGrowingInboundAsync(perKind: 1);
        });

        var before = await alice.ParticipantIdAsync();
        await scene.StepAsync("Alice's WebSocket drops and she resumes with resume_token", async () =>
        {
            await alice.Page.EvaluateAsync("() => window.parley.signaling.ws.close()");
            await alice.Page.WaitForFunctionAsync(
                "() => window.parley.state === 'joined' && window.parley.signaling.log.filter(e => e[1] === '→' && e[2].type === 'join' && e[2].resume_token).length > 0",
                null, new() { Timeout = 30_000 });
            Assert.Equal(before, await alice.ParticipantIdAsync());
            await Expect(bob.Tile(before)).ToHaveCountAsync(1, Count);
            await Expect(bob.Tile(before)).Not.ToHaveAttributeAsync("data-state", "reconnecting", new() { Timeout = 45_000 });
        });

        await scene.StepAsync("media keeps flowing both ways after the resume", async () =>
        {
            await alice.WaitForGrowingInboundAsync(perKind: 1);
            await bob.WaitForGrowingInboundAsync(perKind: 1);
        });

        await scene.StepAsync("chat still works after the resume", async () =>
        {
            await alice.Page.GetByTestId("chat-button").ClickAsync();
            await alice.Page.GetByTestId("chat-input").FillAsync("back again");
            await alice.Page.GetByTestId("chat-send").ClickAsync();
            await bob.Page.GetByTestId("chat-button").ClickAsync();
            await Expect(bob.Page.GetByTestId("chat-message").Filter(new() { HasText = "back again" })).ToHaveCountAsync(1, Count);
        });
    }

    [Fact]
    public async Task A_recording_bot_shows_the_recording_banner_and_a_microphone_muted_before_joining_is_muted_for_the_others()
    {
        var meetingId = await environment.CreateMeetingAsync("On the record");
        var botToken = await environment.MintTokenAsync(meetingId, "recorder-1", "Parley Recorder", host: false, bot: true);
        await using var scene = new MeetingScene(environment, output);
        var mia = await scene.OpenAsync("Mia", $"/meet/{meetingId}");
        await scene.StepAsync("Mia turns her microphone off on the pre-join screen, joins, and sees no recording banner", async () =>
        {
            await mia.WaitForDevicesAsync();
            await mia.Page.GetByTestId("prejoin-mic-toggle").ClickAsync();
            await mia.JoinAsync();
            await Expect(mia.Page.GetByTestId("recording-banner")).ToBeHiddenAsync(Hidden);
        });

        var miaId = await mia.ParticipantIdAsync();
        var bot = await scene.JoinWithTokenAsync(meetingId, "Parley Recorder", botToken);
        await scene.StepAsync("with a recording bot present both see 'This meeting is being recorded'", async () =>
        {
            foreach (var participant in new[] { mia, bot })
            {
                await Expect(participant.Page.GetByTestId("recording-banner")).ToBeVisibleAsync(Visible);
                await Expect(participant.Page.GetByTestId("recording-banner")).ToHaveTextAsync("This meeting is being recorded", Text);
            }
        });

        await scene.StepAsync("Mia's microphone track is muted on the server (mute sent once its track id was known)", async () =>
        {
            await bot.Page.WaitForFunctionAsync(
                "id => (window.parley.app.participants.get(id)?.tracks ?? []).some(t => t.source === 'microphone' && t.muted === true)",
                miaId, new() { Timeout = 45_000 });
            await Expect(bot.Tile(miaId).GetByTestId("muted-indicator")).ToBeVisibleAsync(Visible);
        });

        await scene.StepAsync("the bot leaves and the banner goes", async () =>
        {
            await bot.Page.GetByTestId("leave-button").ClickAsync();
            await Expect(mia.Page.GetByTestId("recording-banner")).ToBeHiddenAsync(Hidden);
        });

        await scene.StepAsync("the server told Mia `recording {active: false}` when the bot left (docs/signaling.md: 'a recording bot joined or left')", async () =>
        {
            await mia.Page.WaitForFunctionAsync(
                "() => window.parley.signaling.log.some(e => e[1] === '←' && e[2].type === 'recording' && e[2].active === false)",
                null, new() { Timeout = 15_000 });
        });
    }
}
