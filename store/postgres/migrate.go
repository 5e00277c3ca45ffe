package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationsTable is the table, in the pool's current schema, that records
// the migrations applied: one row per version, with its name and time.
const MigrationsTable = "rendezvous_migrations"

// migrationLockClass is the first key of the advisory lock that serialises
// migrations; the second is a hash of the current schema, so that
// migrations of different schemas of one database do not wait for each
// other.
const migrationLockClass = 0x72760001

// Migration is one schema change, read from the embedded files
// migrations/NNN_name.up.sql and migrations/NNN_name.down.sql.
type Migration struct {
	// Version is NNN, the order of application.
	Version int
	// Name is the file name's middle part, such as "auth".
	Name string
	// Up applies the change; Down reverts it.
	Up, Down string
}

// Migrations returns the embedded migrations in version order, for host
// applications that apply them with their own tools instead of Migrate.
func Migrations() []Migration {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		panic("postgres: " + err.Error())
	}
	return ms
}

// Migrate brings the schema of the pool's current schema (the first one of
// its search_path) up to date: it applies, in version order, every
// embedded migration not yet recorded in MigrationsTable, which it creates
// if needed. The host application calls it explicitly at start-up, before
// using a store; nothing migrates implicitly.
//
// All pending migrations are applied in one transaction that holds a
// Postgres advisory lock, so several instances may call Migrate at once:
// one applies the migrations while the others wait, then find nothing left
// to do. A failure rolls every pending migration back.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrate(ctx, pool, func(tx pgx.Tx, applied map[int]bool, ms []Migration) error {
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.Up); err != nil {
				return fmt.Errorf("postgres: migration %03d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+MigrationsTable+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("postgres: record migration %03d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
}

// MigrateDown reverts, newest first and in one transaction under the same
// lock as Migrate, every applied migration whose version is above target:
// MigrateDown(ctx, pool, 0) removes every table the migrations created.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, target int) error {
	return migrate(ctx, pool, func(tx pgx.Tx, applied map[int]bool, ms []Migration) error {
		for _, m := range slices.Backward(ms) {
			if m.Version <= target || !applied[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.Down); err != nil {
				return fmt.Errorf("postgres: revert migration %03d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM `+MigrationsTable+` WHERE version = $1`, m.Version); err != nil {
				return fmt.Errorf("postgres: unrecord migration %03d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
}

// migrate runs change in a transaction that holds the migration lock,
// with the versions already applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, change func(tx pgx.Tx, applied map[int]bool, ms []Migration) error) error {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`, int32(migrationLockClass)); err != nil {
			return fmt.Errorf("postgres: take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+MigrationsTable+` (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("postgres: create %s: %w", MigrationsTable, err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM `+MigrationsTable)
		if err != nil {
			return fmt.Errorf("postgres: read %s: %w", MigrationsTable, err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("postgres: read %s: %w", MigrationsTable, err)
		}
		applied := make(map[int]bool, len(versions))
		for _, v := range versions {
			applied[int(v)] = true
		}
		return change(tx, applied, ms)
	})
}

// loadMigrations reads migrations/NNN_name.{up,down}.sql from fsys: every
// version has both files and one name.
func loadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		file := e.Name()
		base, dir, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), ".")
		if !ok || !strings.HasSuffix(file, ".sql") || (dir != "up" && dir != "down") {
			return nil, fmt.Errorf("migration file %q is not named NNN_name.up.sql or NNN_name.down.sql", file)
		}
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version < 1 || name == "" {
			return nil, fmt.Errorf("migration file %q is not named NNN_name.up.sql or NNN_name.down.sql", file)
		}
		b, err := fs.ReadFile(fsys, "migrations/"+file)
		if err != nil {
			return nil, err
		}
		m := byVersion[version]
		if m == nil {
			m = &Migration{Version: version, Name: name}
			byVersion[version] = m
		}
		if m.Name != name {
			return nil, fmt.Errorf("migration %d has two names, %q and %q", version, m.Name, name)
		}
		if dir == "up" {
			m.Up = string(b)
		} else {
			m.Down = string(b)
		}
	}
	ms := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf("migration %03d_%s needs both an .up.sql and a .down.sql file", m.Version, m.Name)
		}
		ms = append(ms, *m)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}
