package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

// authOps calls every method of s that queries the database.
func authOps(s *postgres.AuthStore) map[string]func(context.Context) error {
	now := time.Now()
	u := auth.User{ID: testUser, CreatedAt: now, UpdatedAt: now}
	tok := auth.RefreshToken{UserID: testUser, FamilyID: testTxID, Hash: []byte("0123456789abcdef0123456789abcdef"), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	key := auth.CodeKey{Purpose: auth.PurposeLogin, Channel: auth.ChannelEmail, Identifier: "sam@example.com"}
	return map[string]func(context.Context) error{
		"CreateUser": func(ctx context.Context) error { return s.CreateUser(ctx, u, tok) },
		"User":       func(ctx context.Context) error { _, err := s.User(ctx, testUser); return err },
		"UserByIdentity": func(ctx context.Context) error {
			_, err := s.UserByIdentity(ctx, auth.ChannelEmail, "sam@example.com")
			return err
		},
		"DeleteUser":         func(ctx context.Context) error { return s.DeleteUser(ctx, testUser) },
		"CreateRefreshToken": func(ctx context.Context) error { return s.CreateRefreshToken(ctx, tok) },
		"RevokeUserFamilies": func(ctx context.Context) error { return s.RevokeUserFamilies(ctx, testUser, now) },
		"PutCode": func(ctx context.Context) error {
			return s.PutCode(ctx, auth.VerificationCode{Key: key, Hash: []byte("h"), CreatedAt: now, ExpiresAt: now.Add(time.Minute)})
		},
		"CheckCode": func(ctx context.Context) error {
			return s.CheckCode(ctx, auth.CodeCheck{Key: key, Hash: []byte("h"), Now: now, MaxAttempts: 5, MaxTotalAttempts: 10})
		},
		"DeleteExpired": func(ctx context.Context) error { return s.DeleteExpired(ctx, now) },
	}
}

func TestAuthStoreUnavailableWhenPostgresRefuses(t *testing.T) {
	for name, op := range authOps(postgres.NewAuthStore(poolAt(t, closedPort(t)))) {
		wantUnavailable(t, name, op(context.Background()))
	}
}

func TestAuthStoreUnavailableWhenPostgresHangs(t *testing.T) {
	for name, op := range authOps(postgres.NewAuthStore(poolAt(t, hungServer(t)))) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := op(ctx)
		cancel()
		wantUnavailable(t, name, err)
	}
}
