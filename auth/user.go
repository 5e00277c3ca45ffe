package auth

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rendezvous-go/rendezvous/internal/textrule"
)

// Channel is how a verification code reaches its owner: by SMS to a phone
// number or by mail to an email address.
type Channel string

// The verification channels.
const (
	ChannelPhone Channel = "phone"
	ChannelEmail Channel = "email"
)

// Valid reports whether c is ChannelPhone or ChannelEmail.
func (c Channel) Valid() bool { return c == ChannelPhone || c == ChannelEmail }

// The limits of profile fields, enforced by Service.UpdateProfile. Lengths
// are counted in characters (Unicode code points), but PhotoURLMaxLength in
// bytes (photo URLs are ASCII).
const (
	DisplayNameMaxLength = 32
	BioMaxLength         = 500
	MinAge               = 18
	MaxAge               = 120
	MaxInterests         = 10
	InterestMaxLength    = 32
	MaxPhotos            = 6
	PhotoURLMaxLength    = 2048
)

// The accepted values of Profile.Gender.
const (
	GenderWoman     = "woman"
	GenderMan       = "man"
	GenderNonBinary = "non_binary"
	GenderOther     = "other"
)

// Profile holds the "anonymous fields" of a user: what a match partner
// sees. Zero Age and empty Gender mean not given. Interests and PhotoURLs
// are never nil in values returned by a Service.
type Profile struct {
	DisplayName string   `json:"displayName"`
	Bio         string   `json:"bio"`
	Age         int      `json:"age,omitempty"`
	Gender      string   `json:"gender,omitempty"`
	Interests   []string `json:"interests"`
	PhotoURLs   []string `json:"photoUrls"`
}

// ProfilePatch is a partial update of a Profile: nil fields are left
// unchanged. It is the body of PATCH /users/me.
type ProfilePatch struct {
	DisplayName *string   `json:"displayName,omitempty"`
	Bio         *string   `json:"bio,omitempty"`
	Age         *int      `json:"age,omitempty"`
	Gender      *string   `json:"gender,omitempty"`
	Interests   *[]string `json:"interests,omitempty"`
	PhotoURLs   *[]string `json:"photoUrls,omitempty"`
}

// User is an account: an anonymous profile and, once verified, a phone
// number and an email address. Phone and Email are shown to their owner
// only; anyone else sees Public().
type User struct {
	ID string `json:"id"`
	Profile
	// Phone is the verified phone number in E.164 form, or "".
	Phone string `json:"phone,omitempty"`
	// Email is the verified email address, lower-cased, or "".
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PublicProfile is what other users may see of a user: no phone number, no
// email address, no timestamps.
type PublicProfile struct {
	ID string `json:"id"`
	Profile
}

// Public returns the part of u that other users may see.
func (u User) Public() PublicProfile {
	p := u.Profile
	p.Interests = nonNil(p.Interests)
	p.PhotoURLs = nonNil(p.PhotoURLs)
	return PublicProfile{ID: u.ID, Profile: p}
}

// Identifier returns u's verified identifier of channel ch, or "".
func (u User) Identifier(ch Channel) string {
	switch ch {
	case ChannelPhone:
		return u.Phone
	case ChannelEmail:
		return u.Email
	}
	return ""
}

// Normalize checks every non-nil field of p against the profile rules and
// returns the patch as it is stored: text trimmed, lists copied. The first
// field that breaks a rule yields an ErrInvalidProfile whose message names
// it.
//
// DisplayName and each of Interests follow the display-name rule that room
// display names follow too: valid UTF-8, trimmed of Unicode white space,
// 1 to DisplayNameMaxLength (InterestMaxLength) characters, no control,
// line or paragraph separator, format, private-use, unassigned or
// invisible filler character (such as U+3164 or U+2800), zero-width
// joiners only inside emoji and script sequences, and at least one
// visible character. Each of PhotoURLs is an absolute https URL of at
// most PhotoURLMaxLength bytes of printable ASCII, with a DNS host name
// (no IP address, no localhost, no single-label host), no user name or
// password and no port.
func (p ProfilePatch) Normalize() (ProfilePatch, error) {
	var out ProfilePatch
	if p.DisplayName != nil {
		name, err := displayNameRule.Check(*p.DisplayName)
		if err != nil {
			return out, ErrInvalidProfile.WithMessage("displayName %v", err)
		}
		out.DisplayName = &name
	}
	if p.Bio != nil {
		bio := strings.TrimSpace(*p.Bio)
		switch {
		case !utf8.ValidString(bio) || hasControl(bio, true):
			return out, ErrInvalidProfile.WithMessage("bio must not contain control characters other than line breaks and tabs")
		case utf8.RuneCountInString(bio) > BioMaxLength:
			return out, ErrInvalidProfile.WithMessage("bio must be at most %d characters", BioMaxLength)
		}
		out.Bio = &bio
	}
	if p.Age != nil {
		age := *p.Age
		if age < MinAge || age > MaxAge {
			return out, ErrInvalidProfile.WithMessage("age must be %d to %d", MinAge, MaxAge)
		}
		out.Age = &age
	}
	if p.Gender != nil {
		g := *p.Gender
		switch g {
		case GenderWoman, GenderMan, GenderNonBinary, GenderOther:
		default:
			return out, ErrInvalidProfile.WithMessage(`gender must be one of "woman", "man", "non_binary", "other"`)
		}
		out.Gender = &g
	}
	if p.Interests != nil {
		in := *p.Interests
		if len(in) > MaxInterests {
			return out, ErrInvalidProfile.WithMessage("interests may hold at most %d entries", MaxInterests)
		}
		list := make([]string, 0, len(in))
		seen := make(map[string]bool, len(in))
		for i, s := range in {
			s, err := interestRule.Check(s)
			if err != nil {
				return out, ErrInvalidProfile.WithMessage("interests[%d] %v", i, err)
			}
			key := strings.ToLower(s)
			if seen[key] {
				return out, ErrInvalidProfile.WithMessage("interests[%d] repeats %s; interests must be distinct", i, textrule.Quote(s))
			}
			seen[key] = true
			list = append(list, s)
		}
		out.Interests = &list
	}
	if p.PhotoURLs != nil {
		in := *p.PhotoURLs
		if len(in) > MaxPhotos {
			return out, ErrInvalidProfile.WithMessage("photoUrls may hold at most %d entries", MaxPhotos)
		}
		list := make([]string, 0, len(in))
		for i, s := range in {
			if err := textrule.CheckHTTPSURL(s, PhotoURLMaxLength); err != nil {
				return out, ErrInvalidProfile.WithMessage("photoUrls[%d] %v", i, err)
			}
			list = append(list, s)
		}
		out.PhotoURLs = &list
	}
	return out, nil
}

// Apply returns p with the non-nil fields of patch set. It applies the
// patch as given; Normalize it first.
func (p Profile) Apply(patch ProfilePatch) Profile {
	if patch.DisplayName != nil {
		p.DisplayName = *patch.DisplayName
	}
	if patch.Bio != nil {
		p.Bio = *patch.Bio
	}
	if patch.Age != nil {
		p.Age = *patch.Age
	}
	if patch.Gender != nil {
		p.Gender = *patch.Gender
	}
	if patch.Interests != nil {
		p.Interests = append([]string{}, *patch.Interests...)
	}
	if patch.PhotoURLs != nil {
		p.PhotoURLs = append([]string{}, *patch.PhotoURLs...)
	}
	return p
}

// hasControl reports whether s holds a control character; line breaks and
// tabs are allowed when multiline is set.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

var (
	displayNameRule = textrule.DisplayName{Min: 1, Max: DisplayNameMaxLength}
	interestRule    = textrule.DisplayName{Min: 1, Max: InterestMaxLength}
)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
