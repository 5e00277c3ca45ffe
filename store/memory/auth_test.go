package memory_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestAuthStore(t *testing.T) {
	storetest.RunAuth(t, func(t *testing.T) storetest.AuthHarness {
		return storetest.AuthHarness{Store: memory.NewAuthStore(nil)}
	})
}

func TestCutoffStore(t *testing.T) {
	storetest.RunCutoffs(t, func(t *testing.T) (auth.CutoffStore, func(time.Duration)) {
		clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
		return memory.NewCutoffStore(clock), clock.Advance
	})
}

func TestAuthStoreSweepsLongExpiredEntries(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
	s := memory.NewAuthStore(clock)
	now := clock.Now()
	hash := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	old := hash()
	u := auth.User{ID: "u1", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u, auth.RefreshToken{Hash: old, UserID: "u1", FamilyID: "f1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: string(rune('a'+i%26)) + time.Duration(i).String()}
		if err := s.PutCode(ctx, auth.VerificationCode{Key: key, Hash: hash(), CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// Just expired: still reported as expired.
	clock.Advance(2 * time.Hour)
	if _, err := s.RotateRefreshToken(ctx, auth.Rotation{Presented: old, Next: hash(), Now: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}); err != auth.ErrRefreshExpired {
		t.Fatalf("rotate just after expiry: %v, want ErrRefreshExpired", err)
	}
	// A day later, a write sweeps them.
	clock.Advance(25 * time.Hour)
	if err := s.PutCode(ctx, auth.VerificationCode{Key: auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelPhone, Identifier: "+33612345678"}, Hash: hash(), CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := memory.AuthEntryCount(s); n != 1 {
		t.Errorf("%d tokens and codes kept after a sweep, want 1", n)
	}
}
