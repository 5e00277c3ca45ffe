package moderation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// A violation webhook ends the call and warns the offender; an operator
// bans a user, who is then refused until the ban ends.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: clock})
	svc, err := moderation.New(moderation.Config{
		Events:        memory.NewModerationEventStore(),
		Bans:          memory.NewBanStore(clock),
		Scheduler:     sched,
		WebhookSecret: "whsec",
		Session: func(_ context.Context, id string) (moderation.SessionInfo, error) {
			return moderation.SessionInfo{Users: [2]string{"alice", "bob"}, Live: true}, nil
		},
		EndSession: func(_ context.Context, id string) error {
			fmt.Println("end session", id)
			return nil
		},
		ForcePass: func(_ context.Context, id, user string) error {
			fmt.Println("PASS for", user)
			return nil
		},
		LeaveQueue: func(_ context.Context, user string) error {
			fmt.Println(user, "leaves the queue")
			return nil
		},
		Notifier: rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
			for _, ev := range evs {
				fmt.Println(ev.Target, ev.Name, string(ev.Data))
			}
			return nil
		}),
		Clock: clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sched.Handle(moderation.ApplyJobKind, svc.HandleApply)

	body := []byte(`{"sessionId":"s1","userId":"bob","violation":true,"reason":"nudity"}`)
	mac := hmac.New(sha256.New, []byte("whsec"))
	mac.Write(body)
	sig := hex.EncodeToString(mac.Sum(nil))
	if err := svc.HandleWebhook(ctx, body, sig, strconv.FormatInt(clock.Now().Unix(), 10)); err != nil {
		fmt.Println(err)
		return
	}
	_, _ = sched.RunDue(ctx) // the apply job

	if _, err := svc.BanUser(ctx, "bob", 2*time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	err = svc.CheckBan(ctx, "bob")
	fmt.Println(errors.Is(err, moderation.ErrUserBanned), err)
	clock.Advance(2 * time.Hour)
	fmt.Println(svc.CheckBan(ctx, "bob"))
	// Output:
	// end session s1
	// user:bob moderation:action {"action":"warn","reason":"nudity"}
	// PASS for bob
	// user:bob moderation:action {"action":"ban","reason":"banned by a moderator","until":"2026-05-01T14:00:00Z"}
	// bob leaves the queue
	// true USER_BANNED: you are banned until 2026-05-01T14:00:00Z
	// <nil>
}
