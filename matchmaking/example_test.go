package matchmaking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func Example() {
	ctx := context.Background()
	// A wallet of one token per user; each debit key is charged once.
	var mu sync.Mutex
	balance := map[string]int{"alice": 1, "bob": 1}
	debits := map[string]string{} // debit key -> user
	svc, err := matchmaking.New(matchmaking.Config{
		Store: memory.NewQueueStore(),
		Debit: func(_ context.Context, userID, key string) error {
			mu.Lock()
			defer mu.Unlock()
			if _, ok := debits[key]; !ok {
				balance[userID]--
				debits[key] = userID
			}
			return nil
		},
		Refund: func(_ context.Context, key string) error {
			mu.Lock()
			defer mu.Unlock()
			if user, ok := debits[key]; ok {
				balance[user]++
				delete(debits, key)
			}
			return nil
		},
		OnPair: func(_ context.Context, p matchmaking.Pair) error {
			fmt.Println("session for", p.Members[0].UserID, "and", p.Members[1].UserID, "in", p.QueueKey)
			return nil
		},
		Notifier: rv.NotifierFunc(func(_ context.Context, events ...rv.Event) error {
			for _, ev := range events {
				fmt.Println(ev.Name, "to", ev.Target)
			}
			return nil
		}),
	})
	if err != nil {
		panic(err)
	}
	prefs := json.RawMessage(`{"lang":"fr","age":[">=25"]}`)
	a, _ := svc.Join(ctx, "alice", "EU", prefs)
	again, _ := svc.Join(ctx, "alice", "eu", prefs)
	b, _ := svc.Join(ctx, "bob", "eu", json.RawMessage(`{"age":[">=25"], "lang":"fr"}`))
	fmt.Println(a.Status, a.QueueKey, a.Position)
	fmt.Println(again.Status)
	fmt.Println(b.Status, b.Position)

	pairs, _ := svc.Tick(ctx)
	fmt.Println(pairs, "pair; tokens left:", balance["alice"], balance["bob"])
	// Output:
	// queued eu:3c5c135751bd 0
	// already_queued
	// queued 1
	// match to user:alice
	// match to user:bob
	// session for alice and bob in eu:3c5c135751bd
	// 1 pair; tokens left: 0 0
}
