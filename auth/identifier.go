package auth

import (
	"net/mail"
	"strings"

	"github.com/rendezvous-go/rendezvous/internal/textrule"
)

// MaxEmailLength is the longest email address accepted, in bytes.
const MaxEmailLength = 254

// NormalizePhone returns phone in E.164 form: "+" followed by 8 to 15
// digits, the first of which is not 0. Spaces, dashes, dots and parentheses
// are removed first, so "+33 (6) 12-34-56-78" becomes "+33612345678". A
// number without the leading "+" and country code is refused: it cannot be
// told apart from a national number. Errors are ErrInvalidPhone with a
// message that says what is wrong.
func NormalizePhone(phone string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(phone) {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	switch {
	case s == "":
		return "", ErrInvalidPhone.WithMessage("a phone number is required")
	case s[0] != '+':
		return "", ErrInvalidPhone.WithMessage(`the phone number must start with "+" and the country code (E.164), such as +14155550123`)
	}
	digits := s[1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", ErrInvalidPhone.WithMessage(`the phone number may hold only digits after the "+"`)
		}
	}
	switch {
	case len(digits) < 8 || len(digits) > 15:
		return "", ErrInvalidPhone.WithMessage(`the phone number must have 8 to 15 digits after the "+"`)
	case digits[0] == '0':
		return "", ErrInvalidPhone.WithMessage(`a country code never starts with 0: the phone number must not have a 0 right after the "+"`)
	}
	return s, nil
}

// NormalizeEmail returns email trimmed and lower-cased, once it is checked
// to be a plain address (no display name, no angle brackets, no comment)
// whose domain holds a dot, of at most MaxEmailLength bytes. Errors are
// ErrInvalidEmail with a message that says what is wrong.
func NormalizeEmail(email string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(email))
	switch {
	case s == "":
		return "", ErrInvalidEmail.WithMessage("an email address is required")
	case len(s) > MaxEmailLength:
		return "", ErrInvalidEmail.WithMessage("the email address must be at most %d characters", MaxEmailLength)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", ErrInvalidEmail.WithMessage("%s is not a valid email address", textrule.Quote(s))
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return "", ErrInvalidEmail.WithMessage("the email address must have a domain name such as example.com")
	}
	return s, nil
}

// NormalizeIdentifier normalises identifier for channel ch with
// NormalizePhone or NormalizeEmail; an unknown channel is ErrInvalidChannel.
func NormalizeIdentifier(ch Channel, identifier string) (string, error) {
	switch ch {
	case ChannelPhone:
		return NormalizePhone(identifier)
	case ChannelEmail:
		return NormalizeEmail(identifier)
	}
	return "", ErrInvalidChannel
}
