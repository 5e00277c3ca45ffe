package auth_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rendezvous-go/rendezvous/auth"
)

const (
	victimIP   = "198.51.100.20"
	strangerIP = "203.0.113.66"
)

// TestStrangerCannotSpendTheVictimsSendLimit: code requests from one
// address for someone else's email stop at that address's own limit, and
// the owner, from another address, still gets a code and signs in.
func TestStrangerCannotSpendTheVictimsSendLimit(t *testing.T) {
	e := newEnv(t)
	victim := e.signup(t)
	e.verify(t, victim.User.ID, auth.ChannelEmail, "victim@example.com")

	refused := 0
	for range 20 {
		err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "victim@example.com", strangerIP)
		switch {
		case errors.Is(err, auth.ErrSendRateLimited):
			refused++
		case err != nil:
			t.Fatalf("StartLogin from the stranger: %v", err)
		}
	}
	if refused == 0 {
		t.Fatal("one address may request codes for one email without limit")
	}
	for i := range 2 {
		if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "victim@example.com", victimIP); err != nil {
			t.Fatalf("the owner's request %d after a stranger spent its limit: %v", i+1, err)
		}
	}
	if _, err := e.svc.Login(e.ctx, auth.ChannelEmail, "victim@example.com", e.outbox.last(t, "victim@example.com"), victimIP); err != nil {
		t.Fatalf("the owner's sign-in: %v", err)
	}
}

// TestSendCeilingPerIdentifier: however many addresses ask, one
// identifier gets at most SendLimitPerIdentifier codes a window.
func TestSendCeilingPerIdentifier(t *testing.T) {
	e := newEnv(t)
	sent := 0
	for i := range 30 {
		err := e.svc.StartLogin(e.ctx, auth.ChannelPhone, "+33612345678", fmt.Sprintf("192.0.2.%d", i))
		switch {
		case err == nil:
			sent++
		case !errors.Is(err, auth.ErrSendRateLimited):
			t.Fatal(err)
		}
	}
	if sent != auth.DefaultSendLimitPerIdentifier {
		t.Errorf("%d codes accepted for one phone from 30 addresses, want the ceiling %d", sent, auth.DefaultSendLimitPerIdentifier)
	}
}

// TestWrongGuessesLockOnlyTheGuesser: wrong guesses from one address lock
// that address out of the code, not the owner at another address.
func TestWrongGuessesLockOnlyTheGuesser(t *testing.T) {
	e := newEnv(t)
	victim := e.signup(t)
	e.verify(t, victim.User.ID, auth.ChannelEmail, "victim@example.com")
	if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "victim@example.com", victimIP); err != nil {
		t.Fatal(err)
	}
	code := e.outbox.last(t, "victim@example.com")
	for i := range 5 {
		_, err := e.svc.Login(e.ctx, auth.ChannelEmail, "victim@example.com", wrongCode(code), strangerIP)
		wantErr(t, fmt.Sprintf("stranger's wrong guess %d", i+1), err, auth.ErrCodeInvalid)
	}
	_, err := e.svc.Login(e.ctx, auth.ChannelEmail, "victim@example.com", code, strangerIP)
	wantErr(t, "the right code from the locked-out stranger", err, auth.ErrCodeExhausted)
	in, err := e.svc.Login(e.ctx, auth.ChannelEmail, "victim@example.com", code, victimIP)
	if err != nil {
		t.Fatalf("the owner's right code after a stranger's 5 wrong guesses: %v", err)
	}
	e.authOK(t, in.AccessToken, victim.User.ID)
}

// TestCodeTotalAttemptCeiling: all addresses together get
// CodeMaxTotalAttempts wrong guesses on one code; a fresh send gives the
// owner a working code again.
func TestCodeTotalAttemptCeiling(t *testing.T) {
	e := newEnv(t)
	victim := e.signup(t)
	e.verify(t, victim.User.ID, auth.ChannelPhone, "+33612345678")
	if err := e.svc.StartLogin(e.ctx, auth.ChannelPhone, "+33612345678", victimIP); err != nil {
		t.Fatal(err)
	}
	code := e.outbox.last(t, "+33612345678")
	invalid := 0
	for i := range 20 {
		_, err := e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", wrongCode(code), fmt.Sprintf("192.0.2.%d", i))
		switch {
		case errors.Is(err, auth.ErrCodeInvalid):
			invalid++
		case !errors.Is(err, auth.ErrCodeExhausted):
			t.Fatalf("wrong guess %d: %v", i+1, err)
		}
	}
	if invalid != auth.DefaultCodeMaxTotalAttempts {
		t.Errorf("%d wrong guesses counted on one code from 20 addresses, want the ceiling %d", invalid, auth.DefaultCodeMaxTotalAttempts)
	}
	_, err := e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", code, victimIP)
	wantErr(t, "the right code once the code's ceiling is reached", err, auth.ErrCodeExhausted)

	// A fresh send always gives the owner a working code.
	if err := e.svc.StartLogin(e.ctx, auth.ChannelPhone, "+33612345678", victimIP); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", e.outbox.last(t, "+33612345678"), victimIP); err != nil {
		t.Fatalf("a fresh code after the ceiling: %v", err)
	}
}

// TestIPv6RequestersCountPerPrefix: the addresses of one IPv6 /64 are one
// requester, or any host could take 2^64 fresh addresses.
func TestIPv6RequestersCountPerPrefix(t *testing.T) {
	e := newEnv(t)
	refused := false
	for i := range 10 {
		err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "victim@example.com", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		if errors.Is(err, auth.ErrSendRateLimited) {
			refused = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !refused {
		t.Fatal("ten addresses of one /64 were counted as ten requesters")
	}
	if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "victim@example.com", "2001:db8:1:3::1"); err != nil {
		t.Errorf("another /64: %v", err)
	}
}
