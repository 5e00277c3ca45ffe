// Package agora issues the Agora credentials of the video calls of package
// session: it implements session.VideoTokenIssuer with Agora AccessToken2,
// the token format whose strings start with "007".
//
// # What is issued
//
// For each participant, (*Issuer).IssueVideoTokens returns
//   - an RTC token for the participant's uid (TokenRequest.RTCUID, never 0)
//     in the call's channel (TokenRequest.Channel), with the publisher
//     role's privileges: join the channel and publish audio, video and data
//     streams;
//   - an RTM token for the participant's RTM user id
//     (TokenRequest.RTMUserID), with the login privilege.
//
// Both are issued at TokenRequest.IssuedAt and expire, with every
// privilege, TokenRequest.TTL later, in whole seconds; each has its own
// random salt (crypto/rand), so equal requests give different tokens. A request Agora
// would refuse (channel or user id empty, over 64 bytes or with characters
// outside Agora's set, uid 0, TTL under a second or over 24 hours) fails
// with ErrInvalidTokenRequest, before anything is signed.
//
// # AccessToken2
//
// A token is Version followed by the base64 (standard, padded) of the zlib
// compression (default level) of
//
//	signature  string
//	app id     string
//	issue ts   uint32  Unix seconds
//	expire     uint32  seconds after issue ts
//	salt       uint32
//	services   uint16 count, then each: type uint16, privileges
//	           (uint16 count of uint16 privilege, uint32 expire pairs, in
//	           ascending privilege order), then the type's fields: RTC
//	           (type 1) channel name and uid strings (decimal, "" for any
//	           uid), RTM (type 2) user id string
//
// where integers are little-endian and strings have a uint16 length
// prefix. The signature is HMAC-SHA256 of everything after it, with the
// key HMAC-SHA256(salt, HMAC-SHA256(issue ts, App Certificate)) (the
// numbers as their 4 little-endian bytes). AccessToken builds tokens
// byte for byte as Agora's reference implementation does (the tests hold
// its published test vectors); Parse and Verify read them back.
//
// # Configuration
//
// Config takes the project's App ID and App Certificate (32 hexadecimal
// characters each; New refuses anything else with ErrInvalidConfig). The
// server reads them from AGORA_APP_ID and AGORA_APP_CERTIFICATE, and the
// tokens' lifetime (session.Config.TokenTTL) from AGORA_TOKEN_TTL_SECONDS,
// default 120; this package itself reads no environment.
package agora
