using System.Net;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Tests.Live.Gemini;

public sealed class GeminiCloseClassifierTests
{
    // The close taxonomy: every close seen from the service (reference §5) and the error the client gets.
    [Theory]
    [InlineData(1007, "Request contains an invalid argument.", "upstream_invalid_argument", false)]
    [InlineData(1007, "realtime_input.media_chunks is deprecated. Use audio, video, or text instead.", "upstream_invalid_argument", false)]
    [InlineData(1007, "User location is not supported for the API use.", "location_not_supported", false)]
    [InlineData(1007, "API key expired. Please renew the API key.", "upstream_auth_failed", false)]
    [InlineData(1007, "API key not valid. Please pass a valid API key.", "upstream_auth_failed", false)]
    [InlineData(1008, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "upstream_auth_failed", false)]
    [InlineData(1008, "models/gemini-x is not found for API version v1beta, or is not supported for bidiGenerateContent. Call ListModels to see th", "model_not_found", false)]
    [InlineData(1008, "Publisher Model `projects/p/locations/global/publishers/google/models/gemini-live-2.5-flash-preview-na", "model_not_found", false)]
    [InlineData(1008, "BidiGenerateContent session not found", "upstream_unavailable", false)]
    [InlineData(1008, "Requested entity was not found.", "upstream_internal", true)]
    [InlineData(1011, "Internal error occurred.", "upstream_internal", true)]
    [InlineData(1011, "The service is currently unavailable.", "upstream_internal", true)]
    [InlineData(1011, "Request trace id: 1f2e, [ORIGINAL ERROR] RPC::DEADLINE_EXCEEDED", "upstream_timeout", true)]
    [InlineData(1011, "Deadline expired before operation could complete.", "upstream_timeout", true)]
    [InlineData(1011, "Resource has been exhausted (e.g. check quota).", "quota_exhausted", false)]
    [InlineData(1011, "RESOURCE_EXHAUSTED", "quota_exhausted", false)]
    [InlineData(1011, "Token has been used too many times", "upstream_auth_failed", false)]
    [InlineData(1006, "", "upstream_unavailable", true)]
    [InlineData(1001, "", "upstream_unavailable", true)]
    [InlineData(4000, "something new", "upstream_internal", false)]
    public void Close_maps_to_documented_error(int status, string reason, string code, bool retriable)
    {
        var error = GeminiCloseClassifier.ForClose(status, reason);

        error.Should().NotBeNull();
        error!.Code.Should().Be(code);
        error.Fatal.Should().BeTrue();
        error.Retriable.Should().Be(retriable);
        error.Message.Should().NotContain(reason.Length > 0 ? reason : "\u0000", "the service's own text never reaches the client");
        VoiceChatCloseCodes.ForError(error.Code).Should().BeInRange(4005, 4012);
    }

    [Fact]
    public void No_close_frame_is_a_retriable_loss()
    {
        var error = GeminiCloseClassifier.ForClose(null, null);
        error!.Code.Should().Be(VoiceChatErrorCodes.UpstreamUnavailable);
        error.Retriable.Should().BeTrue();
    }

    [Fact]
    public void Normal_closure_is_not_an_error()
    {
        GeminiCloseClassifier.ForClose(1000, "").Should().BeNull();
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "upstream_auth_failed", false)]
    [InlineData(HttpStatusCode.Forbidden, "upstream_auth_failed", false)]
    [InlineData(HttpStatusCode.TooManyRequests, "quota_exhausted", false)]
    [InlineData(HttpStatusCode.NotFound, "upstream_unavailable", true)]
    [InlineData(HttpStatusCode.BadGateway, "upstream_unavailable", true)]
    [InlineData(HttpStatusCode.GatewayTimeout, "upstream_timeout", true)]
    public void Refused_upgrade_maps_to_documented_error(HttpStatusCode status, string code, bool retriable)
    {
        var error = GeminiCloseClassifier.ForHttpStatus(status);
        error.Code.Should().Be(code);
        error.Retriable.Should().Be(retriable);
    }

    [Fact]
    public void Local_failures()
    {
        GeminiCloseClassifier.SetupTimedOut.Code.Should().Be(VoiceChatErrorCodes.UpstreamTimeout);
        GeminiCloseClassifier.ConnectFailed.Code.Should().Be(VoiceChatErrorCodes.UpstreamUnavailable);
        GeminiCloseClassifier.CredentialsFailed.Code.Should().Be(VoiceChatErrorCodes.UpstreamAuthFailed);
        GeminiCloseClassifier.CredentialsFailed.Retriable.Should().BeFalse();
        GeminiCloseClassifier.NotResumable.Code.Should().Be(VoiceChatErrorCodes.UpstreamUnavailable);
    }
}
