package chat_test

import (
	"context"
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// A match made by a mutual outcome, two messages, the history and an
// unmatch, on the memory stores.
func Example() {
	ctx := context.Background()
	matches := memory.NewOptinStore()
	svc, err := chat.New(chat.Config{
		Store: memory.NewChatStore(matches),
		Profiles: func(_ context.Context, ids []string) (map[string]chat.Partner, error) {
			out := make(map[string]chat.Partner)
			for _, id := range ids {
				if id == "user-bob" {
					out[id] = chat.Partner{ID: id, DisplayName: "Bob"}
				}
			}
			return out, nil
		},
		Notifier: rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
			for _, ev := range evs {
				fmt.Println("event", ev.Name, "to", ev.Target)
			}
			return nil
		}),
	})
	if err != nil {
		panic(err)
	}

	// The optin feature makes the match: both chose MATCH.
	const session, matchID = "9d3c1f0e-6a8b-4c2d-9e1f-0a1b2c3d4e5f", "3f2e1d0c-9b8a-4766-8554-433221100fed"
	users := [2]string{"user-ann", "user-bob"}
	now := time.Now()
	if _, _, err := matches.Open(ctx, optin.Window{SessionID: session, Users: users, Deadline: now.Add(time.Minute)}); err != nil {
		panic(err)
	}
	for _, u := range users {
		if _, _, err := matches.Choose(ctx, optin.ChoiceRequest{SessionID: session, UserID: u, Choice: optin.ChoiceMatch, Now: now, MatchID: matchID}); err != nil {
			panic(err)
		}
	}

	if _, err := svc.Send(ctx, "user-ann", matchID, "  Hi Bob!  ", "ann-1"); err != nil {
		panic(err)
	}
	if _, err := svc.Send(ctx, "user-bob", matchID, "Hi Ann", ""); err != nil {
		panic(err)
	}
	list, err := svc.Matches(ctx, "user-ann", "", 0)
	if err != nil {
		panic(err)
	}
	fmt.Println("Ann's match with", list.Matches[0].Partner.DisplayName)
	page, err := svc.Messages(ctx, "user-bob", matchID, "", "", 0)
	if err != nil {
		panic(err)
	}
	for _, m := range page.Messages {
		fmt.Printf("%s: %q\n", m.SenderID, m.Text)
	}
	if err := svc.Unmatch(ctx, "user-bob", matchID); err != nil {
		panic(err)
	}
	_, err = svc.Messages(ctx, "user-ann", matchID, "", "", 0)
	fmt.Println(rv.CodeOf(err))
	// Output:
	// event message:new to user:user-ann
	// event message:new to user:user-bob
	// event message:new to user:user-ann
	// event message:new to user:user-bob
	// Ann's match with Bob
	// user-ann: "Hi Bob!"
	// user-bob: "Hi Ann"
	// event match:removed to user:user-ann
	// event match:removed to user:user-bob
	// MATCH_NOT_FOUND
}
