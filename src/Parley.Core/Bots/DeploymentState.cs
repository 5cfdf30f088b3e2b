namespace Parley.Core.Bots;

/// <summary>
/// Meeboter's deployment lifecycle, reported in `deployment.state`: a coarser view of the bot status that
/// operators of Meeboter already watch.
/// </summary>
public static class DeploymentState
{
    public const string Deploying = "DEPLOYING";
    public const string JoiningCall = "JOINING_CALL";
    public const string InWaitingRoom = "IN_WAITING_ROOM";
    public const string InCall = "IN_CALL";
    public const string Leaving = "LEAVING";
    public const string CallEnded = "CALL_ENDED";
    public const string Done = "DONE";
    public const string Fatal = "FATAL";

    public static string FromStatus(string status) => status switch
    {
        BotStatus.Queued or BotStatus.PickupDelayed => Deploying,
        BotStatus.JoiningCall => JoiningCall,
        BotStatus.InWaitingRoom or BotStatus.InWaitingForHost => InWaitingRoom,
        BotStatus.InCallNotRecording or BotStatus.InCallRecording or BotStatus.RecordingPaused or BotStatus.RecordingResumed => InCall,
        BotStatus.ApiRequestStop or BotStatus.BotRemoved or BotStatus.BotRemovedTooEarly or BotStatus.BotRejected
            or BotStatus.WaitingRoomTimeout or BotStatus.InvalidMeetingUrl or BotStatus.MeetingError => Leaving,
        BotStatus.CallEnded or BotStatus.RecordingSucceeded or BotStatus.RecordingFailed or BotStatus.Transcribing => CallEnded,
        BotStatus.Completed => Done,
        _ => Fatal,
    };
}
