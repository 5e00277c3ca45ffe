package agora

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
)

// Version is the prefix of every AccessToken2 token.
const Version = "007"

// ServiceType identifies a service of an AccessToken.
type ServiceType uint16

// The service types this package encodes and decodes.
const (
	ServiceTypeRTC ServiceType = 1 // real-time audio and video (RTCService)
	ServiceTypeRTM ServiceType = 2 // real-time messaging (RTMService)
)

// Privilege identifies one privilege of a service. Its values are per
// service: PrivilegeLogin of RTM and PrivilegeJoinChannel of RTC are both 1.
type Privilege uint16

// The privileges of RTCService.
const (
	PrivilegeJoinChannel        Privilege = 1
	PrivilegePublishAudioStream Privilege = 2
	PrivilegePublishVideoStream Privilege = 3
	PrivilegePublishDataStream  Privilege = 4
)

// PrivilegeLogin is the privilege of RTMService.
const PrivilegeLogin Privilege = 1

// Service is one service of an AccessToken: RTCService or RTMService.
type Service interface {
	// ServiceType returns the type the service is encoded with.
	ServiceType() ServiceType
	pack(w *writer)
}

// RTCService grants privileges in one RTC channel to one uid. Privileges
// maps each privilege to its expiry, in seconds after the token's issue
// time.
type RTCService struct {
	ChannelName string
	// UID is the decimal uid, or "" for any uid (see UIDString).
	UID        string
	Privileges map[Privilege]uint32
}

// ServiceType returns ServiceTypeRTC.
func (RTCService) ServiceType() ServiceType { return ServiceTypeRTC }

func (s RTCService) pack(w *writer) {
	w.u16(uint16(ServiceTypeRTC))
	w.privileges(s.Privileges)
	w.str(s.ChannelName, "the RTC channel name")
	w.str(s.UID, "the RTC uid")
}

// RTMService grants privileges (PrivilegeLogin) to one RTM user id.
type RTMService struct {
	UserID     string
	Privileges map[Privilege]uint32
}

// ServiceType returns ServiceTypeRTM.
func (RTMService) ServiceType() ServiceType { return ServiceTypeRTM }

func (s RTMService) pack(w *writer) {
	w.u16(uint16(ServiceTypeRTM))
	w.privileges(s.Privileges)
	w.str(s.UserID, "the RTM user id")
}

// UIDString is the form of an RTC uid in a token: its decimal digits, and
// "" for 0, which lets any uid join.
func UIDString(uid uint32) string {
	if uid == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// AccessToken is the content of an AccessToken2 token. IssueTs is in Unix
// seconds; Expire, like every privilege's expiry, is in seconds after
// IssueTs; Salt is a random number that makes each token unique.
type AccessToken struct {
	AppID    string
	IssueTs  uint32
	Expire   uint32
	Salt     uint32
	Services []Service
}

// RTC returns the token's first RTCService.
func (t *AccessToken) RTC() (RTCService, bool) {
	for _, s := range t.Services {
		if r, ok := s.(RTCService); ok {
			return r, true
		}
	}
	return RTCService{}, false
}

// RTM returns the token's first RTMService.
func (t *AccessToken) RTM() (RTMService, bool) {
	for _, s := range t.Services {
		if r, ok := s.(RTMService); ok {
			return r, true
		}
	}
	return RTMService{}, false
}

// ValidKey reports whether s has the form of an Agora App ID or App
// Certificate: 32 hexadecimal characters.
func ValidKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Build signs t with appCertificate and returns the token: Version, then
// the base64 of the zlib-compressed signature and content. The services
// are encoded in ascending type order (stable among services of one type),
// as Agora's builders do. It fails with ErrInvalidConfig when the App ID
// or certificate is not 32 hexadecimal characters, and with
// ErrInvalidAccessToken when t has no service, a nil one, or a field too
// long for the format.
func (t *AccessToken) Build(appCertificate string) (string, error) {
	if !ValidKey(t.AppID) || !ValidKey(appCertificate) {
		return "", ErrInvalidConfig.WithMessage("the App ID and the App Certificate must be 32 hexadecimal characters each")
	}
	if len(t.Services) == 0 {
		return "", ErrInvalidAccessToken.WithMessage("an access token needs at least one service")
	}
	if slices.Contains(t.Services, nil) {
		return "", ErrInvalidAccessToken.WithMessage("an access token's service is nil")
	}
	// The signed content, behind room for the signature's length prefix
	// and the signature itself, which are filled in afterwards.
	const head = 2 + sha256.Size
	w := writer{b: make([]byte, head, 256)}
	w.str(t.AppID, "the App ID")
	w.u32(t.IssueTs)
	w.u32(t.Expire)
	w.u32(t.Salt)
	w.count(len(t.Services), "the service list")
	services := t.Services
	if !slices.IsSortedFunc(services, byType) {
		services = slices.Clone(services)
		slices.SortStableFunc(services, byType)
	}
	for _, s := range services {
		s.pack(&w)
	}
	if w.err != nil {
		return "", w.err
	}
	mac := hmac.New(sha256.New, signingKey(appCertificate, t.IssueTs, t.Salt))
	mac.Write(w.b[head:])
	binary.LittleEndian.PutUint16(w.b, sha256.Size)
	mac.Sum(w.b[2:2])
	return Version + compress(w.b), nil
}

func byType(a, b Service) int { return int(a.ServiceType()) - int(b.ServiceType()) }

// signingKey is the key that signs a token's content:
// HMAC-SHA256(salt, HMAC-SHA256(issueTs, certificate)), the numbers as
// their 4 little-endian bytes.
func signingKey(appCertificate string, issueTs, salt uint32) []byte {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], issueTs)
	h := hmac.New(sha256.New, n[:])
	h.Write([]byte(appCertificate))
	inner := h.Sum(nil)
	binary.LittleEndian.PutUint32(n[:], salt)
	h = hmac.New(sha256.New, n[:])
	h.Write(inner)
	return h.Sum(nil)
}

// compressor is a reusable zlib writer and its output buffer.
type compressor struct {
	buf bytes.Buffer
	zw  *zlib.Writer
}

// compressors keeps zlib writers, whose state is large, for reuse; a reset
// writer produces the same bytes as a new one.
var compressors = sync.Pool{New: func() any {
	c := &compressor{}
	c.zw = zlib.NewWriter(&c.buf)
	return c
}}

// compress returns the base64 of the zlib compression (default level) of
// b.
func compress(b []byte) string {
	c := compressors.Get().(*compressor)
	defer compressors.Put(c)
	c.buf.Reset()
	c.zw.Reset(&c.buf)
	c.zw.Write(b) // writes to a bytes.Buffer do not fail
	c.zw.Close()
	return base64.StdEncoding.EncodeToString(c.buf.Bytes())
}
