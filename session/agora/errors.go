package agora

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package agora, compared with errors.Is.
var (
	// ErrInvalidConfig: the App ID or App Certificate is not 32
	// hexadecimal characters.
	ErrInvalidConfig = rv.E(rv.KindInvalid, "INVALID_AGORA_CONFIG", "the Agora App ID and App Certificate must be 32 hexadecimal characters each")
	// ErrInvalidTokenRequest: a TokenRequest Agora would refuse (channel,
	// uid, user id, issue time or TTL).
	ErrInvalidTokenRequest = rv.E(rv.KindInvalid, "INVALID_VIDEO_TOKEN_REQUEST", "invalid video token request")
	// ErrInvalidAccessToken: an AccessToken that cannot be built: no
	// service, a nil one, or a field too long for the format.
	ErrInvalidAccessToken = rv.E(rv.KindInvalid, "INVALID_AGORA_ACCESS_TOKEN", "the access token cannot be built")
	// ErrMalformedToken: Parse or Verify was given something that is not
	// an AccessToken2 token.
	ErrMalformedToken = rv.E(rv.KindInvalid, "AGORA_TOKEN_MALFORMED", "the Agora token is malformed")
	// ErrTokenSignature: Verify found a signature the certificate did not
	// make.
	ErrTokenSignature = rv.E(rv.KindInvalid, "AGORA_TOKEN_SIGNATURE_MISMATCH", "the Agora token's signature does not match the certificate")
	// ErrSalt: the random source of the salts failed.
	ErrSalt = rv.E(rv.KindInternal, "AGORA_SALT_FAILED", "the token's random salt could not be drawn")
)
