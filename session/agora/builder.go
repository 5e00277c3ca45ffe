package agora

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"time"
)

// Role is the role of an RTC token's uid, as in Agora's builders.
type Role uint16

// The roles of an RTC token.
const (
	// RolePublisher may join the channel and publish audio, video and
	// data streams.
	RolePublisher Role = 1
	// RoleSubscriber may only join the channel; it differs from
	// RolePublisher only where co-host authentication is enabled.
	RoleSubscriber Role = 2
)

// NewRTCService returns the RTCService of Agora's RTC builders: uid (0 for
// any uid) may join channelName, and with RolePublisher publish audio,
// video and data streams, each privilege for privilegeExpire seconds after
// the token's issue time.
func NewRTCService(channelName string, uid uint32, role Role, privilegeExpire uint32) RTCService {
	p := map[Privilege]uint32{PrivilegeJoinChannel: privilegeExpire}
	if role == RolePublisher {
		p[PrivilegePublishAudioStream] = privilegeExpire
		p[PrivilegePublishVideoStream] = privilegeExpire
		p[PrivilegePublishDataStream] = privilegeExpire
	}
	return RTCService{ChannelName: channelName, UID: UIDString(uid), Privileges: p}
}

// NewRTMService returns the RTMService of Agora's RTM builder: userID may
// log in for expire seconds after the token's issue time.
func NewRTMService(userID string, expire uint32) RTMService {
	return RTMService{UserID: userID, Privileges: map[Privilege]uint32{PrivilegeLogin: expire}}
}

// BuildRTCTokenWithUID builds, like Agora's BuildTokenWithUid, the RTC
// token of uid in channelName with role, issued now with a random salt:
// the token expires tokenExpire seconds from now, its privileges
// privilegeExpire seconds from now.
func BuildRTCTokenWithUID(appID, appCertificate, channelName string, uid uint32, role Role, tokenExpire, privilegeExpire uint32) (string, error) {
	salt, err := NewSalt(rand.Reader)
	if err != nil {
		return "", err
	}
	t := AccessToken{
		AppID: appID, IssueTs: uint32(time.Now().Unix()), Expire: tokenExpire, Salt: salt,
		Services: []Service{NewRTCService(channelName, uid, role, privilegeExpire)},
	}
	return t.Build(appCertificate)
}

// BuildRTMToken builds, like Agora's RTM BuildToken, the RTM token of
// userID, issued now with a random salt, expiring with its login privilege
// expire seconds from now.
func BuildRTMToken(appID, appCertificate, userID string, expire uint32) (string, error) {
	salt, err := NewSalt(rand.Reader)
	if err != nil {
		return "", err
	}
	t := AccessToken{
		AppID: appID, IssueTs: uint32(time.Now().Unix()), Expire: expire, Salt: salt,
		Services: []Service{NewRTMService(userID, expire)},
	}
	return t.Build(appCertificate)
}

// maxSalt is the largest salt NewSalt draws; Agora's builders draw theirs
// from 1 to 99,999,999 too.
const maxSalt = 99_999_999

// NewSalt draws a salt from 1 to 99,999,999 from the 4 bytes it reads from
// r (crypto/rand.Reader in production). A failing r gives ErrSalt.
func NewSalt(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, ErrSalt.Wrap(err)
	}
	return 1 + binary.LittleEndian.Uint32(b[:])%maxSalt, nil
}
