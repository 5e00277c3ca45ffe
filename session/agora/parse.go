package agora

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
)

// MaxTokenContent bounds the decompressed content Parse accepts, so that a
// small token cannot expand into a large allocation.
const MaxTokenContent = 1 << 20

// Parse decodes token without checking its signature (Verify checks it).
// Services of a type this package does not know end the decoding, as in
// Agora's reference implementation: Services holds those before it. A
// token that is not AccessToken2 or is cut short fails with
// ErrMalformedToken.
func Parse(token string) (*AccessToken, error) {
	t, _, _, err := parse(token)
	return t, err
}

// Verify decodes token like Parse and checks its signature with
// appCertificate; a token signed with another certificate, or altered,
// fails with ErrTokenSignature.
func Verify(token, appCertificate string) (*AccessToken, error) {
	t, signature, signed, err := parse(token)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, signingKey(appCertificate, t.IssueTs, t.Salt))
	mac.Write(signed)
	if !hmac.Equal(mac.Sum(nil), signature) {
		return nil, ErrTokenSignature
	}
	return t, nil
}

// parse decodes token and also returns its signature and the content the
// signature covers.
func parse(token string) (t *AccessToken, signature, signed []byte, err error) {
	body, ok := strings.CutPrefix(token, Version)
	if !ok {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token does not start with %q", Version)
	}
	compressed, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token is not base64").Wrap(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token is not zlib-compressed").Wrap(err)
	}
	content, err := io.ReadAll(io.LimitReader(zr, MaxTokenContent+1))
	if err != nil {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token is not zlib-compressed").Wrap(err)
	}
	if len(content) > MaxTokenContent {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token's content exceeds %d bytes", MaxTokenContent)
	}

	r := reader{b: content}
	signature = r.bytes()
	signed = r.b
	t = &AccessToken{AppID: r.str(), IssueTs: r.u32(), Expire: r.u32(), Salt: r.u32()}
	n := int(r.u16())
decode:
	for i := 0; i < n && !r.short; i++ {
		switch ServiceType(r.u16()) {
		case ServiceTypeRTC:
			s := RTCService{Privileges: r.privileges()}
			s.ChannelName = r.str()
			s.UID = r.str()
			t.Services = append(t.Services, s)
		case ServiceTypeRTM:
			s := RTMService{Privileges: r.privileges()}
			s.UserID = r.str()
			t.Services = append(t.Services, s)
		default:
			// The layout of an unknown service is unknown, so nothing
			// after it can be read.
			break decode
		}
	}
	if r.short {
		return nil, nil, nil, ErrMalformedToken.WithMessage("the token's content is cut short")
	}
	return t, signature, signed, nil
}
