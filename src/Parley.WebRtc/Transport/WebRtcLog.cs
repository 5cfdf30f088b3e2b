using Microsoft.Extensions.Logging;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Transport;

/// <summary>Source-generated log messages of the transport layer (event ids 5100–5199).</summary>
internal static partial class WebRtcLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "ICE {LocalUfrag}: {State}")]
    public static partial void IceState(ILogger logger, string localUfrag, IceConnectionState state);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "DTLS {LocalUfrag}: connected, SRTP profile {Profile}")]
    public static partial void DtlsConnected(ILogger logger, string localUfrag, SrtpProfile profile);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Transport {LocalUfrag} failed to connect: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string localUfrag, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "Transport {LocalUfrag} dropped an SRTP packet: {Result} ({Total} so far)")]
    public static partial void SrtpDropped(ILogger logger, string localUfrag, SrtpResult result, long total);
}
