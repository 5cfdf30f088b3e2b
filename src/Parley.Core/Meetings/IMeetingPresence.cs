namespace Parley.Core.Meetings;

/// <summary>
/// What the media side knows about a meeting right now. The SFU supplies the real implementation; until
/// it is registered, <see cref="NoMeetingPresence"/> answers that nobody is there.
/// </summary>
public interface IMeetingPresence
{
    /// <summary>Participants in the meeting's room now (0 when it has no room on this node).</summary>
    int ParticipantCount(string meetingId);

    /// <summary>Closes the meeting's room, if any: everyone gets `meeting_closed` with the reason.</summary>
    void CloseMeeting(string meetingId, string reason);
}

/// <summary>The default when no SFU is wired in: no rooms, nothing to close.</summary>
public sealed class NoMeetingPresence : IMeetingPresence
{
    public int ParticipantCount(string meetingId) => 0;

    public void CloseMeeting(string meetingId, string reason)
    {
    }
}
