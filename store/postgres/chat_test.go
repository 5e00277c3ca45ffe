package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestChatStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunChat(t, func(t *testing.T) storetest.ChatHarness {
		pool := testPool(t)
		return storetest.ChatHarness{Store: postgres.NewChatStore(pool), Optin: postgres.NewOptinStore(pool)}
	})
}

// TestChatMigrationDown checks that 006_chat goes down with data: a pair
// with a removed match and a live one keeps the live one, and the windows
// of the removed one point to it.
func TestChatMigrationDown(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	optins, chats := postgres.NewOptinStore(pool), postgres.NewChatStore(pool)
	now := time.Now().UTC()
	match := func() string {
		w := optin.Window{SessionID: uuid.New(), Users: [2]string{"ann", "bob"}, Deadline: now.Add(time.Hour)}
		if _, _, err := optins.Open(ctx, w); err != nil {
			t.Fatal(err)
		}
		var got optin.Window
		for _, u := range w.Users {
			var err error
			if got, _, err = optins.Choose(ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: u, Choice: optin.ChoiceMatch, Now: now, MatchID: uuid.New()}); err != nil {
				t.Fatal(err)
			}
		}
		return got.MatchID
	}
	old := match()
	if _, _, err := chats.Send(ctx, chat.NewMessage{ID: uuid.New(), MatchID: old, SenderID: "ann", Text: "hi", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := chats.Unmatch(ctx, old, "bob", now); err != nil {
		t.Fatal(err)
	}
	live := match()
	if err := postgres.MigrateDown(ctx, pool, 5); err != nil {
		t.Fatalf("MigrateDown(5): %v", err)
	}
	var ids []string
	rows, err := pool.Query(ctx, `SELECT id::text FROM matches`)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != live {
		t.Errorf("matches after 006 down = %v, want only the live %s", ids, live)
	}
	var stale int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM choice_windows WHERE match_id IS NOT NULL AND match_id <> $1`, live).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d windows point elsewhere than the kept match (%v)", stale, err)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate up again: %v", err)
	}
	if m, err := chats.Match(ctx, live); err != nil || m.ID != live || m.LastMessage != nil {
		t.Errorf("Match after up again = %+v, %v", m, err)
	}
}
