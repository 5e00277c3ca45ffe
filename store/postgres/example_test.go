package postgres_test

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

// A host application connects, migrates explicitly, then builds its
// stores. It needs a database, so this example is compiled but not run.
func Example() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = "rendezvous" // optional: a schema of its own
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	// Safe when several instances start at once.
	if err := postgres.Migrate(ctx, pool); err != nil {
		panic(err)
	}
	svc, err := auth.New(auth.Config{
		Store:   postgres.NewAuthStore(pool),
		Cutoffs: memory.NewCutoffStore(nil), // redis.NewCutoffStore with several instances
		Secret:  []byte(os.Getenv("JWT_SECRET")),
	})
	if err != nil {
		panic(err)
	}
	session, err := svc.SignupAnonymous(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(session.User.ID)
}

// The embedded migrations, for applications that apply them with their own
// migration tool.
func ExampleMigrations() {
	for _, m := range postgres.Migrations() {
		fmt.Printf("%03d_%s\n", m.Version, m.Name)
	}
	// Output:
	// 001_auth
	// 002_billing
	// 003_scheduler
	// 004_code_attempts
	// 005_dating
	// 006_chat
}
