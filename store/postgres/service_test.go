package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

func newService(t *testing.T, pool *pgxpool.Pool, sent map[string]string) *auth.Service {
	t.Helper()
	var mu sync.Mutex
	svc, err := auth.New(auth.Config{
		Store:   postgres.NewAuthStore(pool),
		Cutoffs: memory.NewCutoffStore(nil),
		Secret:  []byte("0123456789abcdef0123456789abcdef"),
		Sender: auth.CodeSenderFunc(func(_ context.Context, _ auth.Channel, to, code string) error {
			mu.Lock()
			sent[to] = code
			mu.Unlock()
			return nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestServiceOnPostgres runs the account life cycle through auth.Service
// on Postgres.
func TestServiceOnPostgres(t *testing.T) {
	ctx := context.Background()
	sent := map[string]string{}
	svc := newService(t, testPool(t), sent)

	s, err := svc.SignupAnonymous(ctx)
	if err != nil {
		t.Fatalf("SignupAnonymous: %v", err)
	}
	if err := svc.StartVerification(ctx, s.User.ID, auth.ChannelEmail, "Ada@Example.com", "203.0.113.7"); err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	u, err := svc.ConfirmVerification(ctx, s.User.ID, auth.ChannelEmail, "ada@example.com", sent["ada@example.com"], "203.0.113.7")
	if err != nil || u.Email != "ada@example.com" {
		t.Fatalf("ConfirmVerification = %+v, %v", u, err)
	}
	name := "Ada"
	if u, err = svc.UpdateProfile(ctx, s.User.ID, auth.ProfilePatch{DisplayName: &name, Interests: &[]string{"maths"}}); err != nil || u.DisplayName != "Ada" {
		t.Fatalf("UpdateProfile = %+v, %v", u, err)
	}

	if err := svc.StartLogin(ctx, auth.ChannelEmail, "ada@example.com", ""); err != nil {
		t.Fatal(err)
	}
	device, err := svc.Login(ctx, auth.ChannelEmail, "ada@example.com", sent["ada@example.com"], "")
	if err != nil || device.User.ID != s.User.ID || device.User.DisplayName != "Ada" {
		t.Fatalf("Login = %+v, %v", device.User, err)
	}

	// Reuse revokes the family, durably; the other device is untouched.
	r1, err := svc.Refresh(ctx, s.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Refresh(ctx, s.RefreshToken); !errors.Is(err, auth.ErrRefreshReused) {
		t.Fatalf("replay: %v, want ErrRefreshReused", err)
	}
	if _, err := svc.Refresh(ctx, r1.RefreshToken); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Fatalf("newest token after replay: %v, want ErrTokenRevoked", err)
	}
	if _, err := svc.Refresh(ctx, device.RefreshToken); err != nil {
		t.Fatalf("the other device: %v", err)
	}

	if err := svc.DeleteAccount(ctx, s.User.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := svc.Me(ctx, s.User.ID); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("Me after delete: %v", err)
	}
	if err := svc.PurgeExpired(ctx); err != nil {
		t.Errorf("PurgeExpired: %v", err)
	}
}

func TestConcurrentServiceRefreshOnPostgres(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, testPool(t), map[string]string{})
	s, err := svc.SignupAnonymous(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const callers = 50
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { _, errs[i] = svc.Refresh(ctx, s.RefreshToken) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, auth.ErrRefreshReused):
			t.Errorf("a losing refresh: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want 1", wins, callers)
	}
}
