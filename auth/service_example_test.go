package auth_test

import (
	"context"
	"errors"
	"fmt"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func ExampleService() {
	ctx := context.Background()
	svc, err := auth.New(auth.Config{
		Store:   memory.NewAuthStore(nil),
		Cutoffs: memory.NewCutoffStore(nil),
		Secret:  []byte("a-secret-of-at-least-32-bytes-long!"),
	})
	if err != nil {
		panic(err)
	}

	// POST /auth/signup-anonymous
	session, _ := svc.SignupAnonymous(ctx)
	who, _ := svc.Authenticate(ctx, session.AccessToken)
	fmt.Println("signed in:", who.UserID == session.User.ID)

	// POST /auth/refresh rotates the refresh token...
	next, _ := svc.Refresh(ctx, session.RefreshToken)
	// ...and presenting the old one again revokes the whole family.
	_, err = svc.Refresh(ctx, session.RefreshToken)
	fmt.Println("replay:", rv.CodeOf(err))
	_, err = svc.Refresh(ctx, next.RefreshToken)
	fmt.Println("newest token:", rv.CodeOf(err))
	// Output:
	// signed in: true
	// replay: REFRESH_TOKEN_REUSED
	// newest token: TOKEN_REVOKED
}

func ExampleService_StartLogin() {
	ctx := context.Background()
	var lastCode string
	svc, _ := auth.New(auth.Config{
		Store:   memory.NewAuthStore(nil),
		Cutoffs: memory.NewCutoffStore(nil),
		Limiter: memory.NewRateLimiter(nil),
		Secret:  []byte("a-secret-of-at-least-32-bytes-long!"),
		Sender: auth.CodeSenderFunc(func(_ context.Context, ch auth.Channel, to, code string) error {
			lastCode = code // a real sender sends an SMS or a mail
			return nil
		}),
	})
	session, _ := svc.SignupAnonymous(ctx)

	// POST /auth/verify-phone/start, then /auth/verify-phone with the code.
	_ = svc.StartVerification(ctx, session.User.ID, auth.ChannelPhone, "+1 415 555 0123", "203.0.113.7")
	user, _ := svc.ConfirmVerification(ctx, session.User.ID, auth.ChannelPhone, "+14155550123", lastCode, "203.0.113.7")
	fmt.Println("verified:", user.Phone)

	// On a new device: request a code, then sign in with it.
	_ = svc.StartLogin(ctx, auth.ChannelPhone, "+14155550123", "198.51.100.1")
	again, _ := svc.Login(ctx, auth.ChannelPhone, "+14155550123", lastCode, "198.51.100.1")
	fmt.Println("same account:", again.User.ID == session.User.ID)

	// A wrong code.
	_, err := svc.Login(ctx, auth.ChannelPhone, "+14155550123", "not-it", "198.51.100.1")
	fmt.Println(errors.Is(err, auth.ErrCodeInvalid))
	// Output:
	// verified: +14155550123
	// same account: true
	// true
}
