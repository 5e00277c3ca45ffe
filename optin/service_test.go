package optin_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

var t0 = time.Date(2026, 2, 14, 20, 0, 0, 0, time.UTC)

// recorder is a Notifier that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []rv.Event
}

func (r *recorder) Notify(_ context.Context, evs ...rv.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

func (r *recorder) named(name string) []rv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []rv.Event
	for _, ev := range r.events {
		if ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

// env wires session and optin as a server does: optin's OpenWindow is
// session's OnEnded, session's Lookup is optin's Session; one scheduler
// on a memory job store runs both jobs by hand (RunDue), with a fake
// clock.
type env struct {
	t        *testing.T
	ctx      context.Context
	clock    *fakeclock.Clock
	sched    *rv.Scheduler
	notes    *recorder
	sessions *session.Service
	optin    *optin.Service
	store    *memory.OptinStore
}

func sessionInfo(s session.Session) optin.SessionInfo {
	return optin.SessionInfo{
		Users:         [2]string{s.Participants[0].UserID, s.Participants[1].UserID},
		Ended:         !s.Live(),
		EndedAt:       s.EndedAt,
		ChoiceOffered: s.EndReason.OffersChoice(),
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: fakeclock.New(t0), notes: &recorder{}, store: memory.NewOptinStore()}
	var err error
	if e.sched, err = rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: e.clock}); err != nil {
		t.Fatal(err)
	}
	e.sessions, err = session.New(session.Config{
		Store: memory.NewSessionStore(), Scheduler: e.sched, Notifier: e.notes, Clock: e.clock,
		Refund: func(context.Context, string) error { return nil },
		OnEnded: func(ctx context.Context, s session.Session) error {
			return e.optin.OpenWindow(ctx, s.ID, [2]string{s.Participants[0].UserID, s.Participants[1].UserID}, s.EndedAt)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.optin, err = optin.New(optin.Config{
		Store: e.store, Scheduler: e.sched, Notifier: e.notes, Clock: e.clock,
		Session: func(ctx context.Context, id string) (optin.SessionInfo, error) {
			s, err := e.sessions.Lookup(ctx, id)
			if err != nil {
				return optin.SessionInfo{}, err
			}
			return sessionInfo(s), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sched.Handle(session.EndJobKind, e.sessions.HandleEnd)
	e.sched.Handle(optin.AutoPassJobKind, e.optin.HandleAutoPass)
	return e
}

func (e *env) runDue() int {
	e.t.Helper()
	n, err := e.sched.RunDue(e.ctx)
	if err != nil {
		e.t.Fatalf("RunDue: %v", err)
	}
	return n
}

// call starts a session of a and b (two new users when empty).
func (e *env) call(a, b string) session.Session {
	e.t.Helper()
	if a == "" {
		a, b = "alice-"+uuid.New(), "bob-"+uuid.New()
	}
	s, err := e.sessions.Start(e.ctx, session.StartRequest{
		SessionID: uuid.New(),
		Users:     [2]session.StartUser{{UserID: a, DebitKey: "d-" + uuid.New()}, {UserID: b, DebitKey: "d-" + uuid.New()}},
	})
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	return s
}

// ended starts a call and lets it time out.
func (e *env) ended(a, b string) session.Session {
	e.t.Helper()
	s := e.call(a, b)
	e.clock.Advance(45 * time.Second)
	if n := e.runDue(); n < 1 {
		e.t.Fatal("no end job ran at EndAt")
	}
	return s
}

func (e *env) choose(user, id, choice string) optin.Result {
	e.t.Helper()
	r, err := e.optin.Choose(e.ctx, user, id, choice)
	if err != nil {
		e.t.Fatalf("Choose(%s, %s): %v", user, choice, err)
	}
	return r
}

func users(s session.Session) (string, string) {
	return s.Participants[0].UserID, s.Participants[1].UserID
}

func TestNewValidates(t *testing.T) {
	sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore()})
	lookup := func(context.Context, string) (optin.SessionInfo, error) { return optin.SessionInfo{}, nil }
	for name, cfg := range map[string]optin.Config{
		"no store":     {Scheduler: sched, Session: lookup},
		"no scheduler": {Store: memory.NewOptinStore(), Session: lookup},
		"no session":   {Store: memory.NewOptinStore(), Scheduler: sched},
		"short window": {Store: memory.NewOptinStore(), Scheduler: sched, Session: lookup, Window: time.Millisecond},
	} {
		if _, err := optin.New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
	svc, err := optin.New(optin.Config{Store: memory.NewOptinStore(), Scheduler: sched, Session: lookup})
	if err != nil || svc.Config().Window != 60*time.Second {
		t.Fatalf("New = %v, window %v", err, svc.Config().Window)
	}
}

// TestFullLoop: start, the end job at EndAt, the window it opens, two
// MATCHes, the mutual outcome to both, and no auto-pass left.
func TestFullLoop(t *testing.T) {
	e := newEnv(t)
	s := e.call("", "")
	a, b := users(s)
	if _, err := e.optin.Choose(e.ctx, a, s.ID, "MATCH"); !errors.Is(err, optin.ErrSessionNotEnded) {
		t.Fatalf("Choose during the call = %v, want ErrSessionNotEnded", err)
	}
	e.clock.Advance(45 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at EndAt", n)
	}
	if n := len(e.notes.named(session.EventEnd)); n != 2 {
		t.Fatalf("%d end events", n)
	}
	if busy, ok, err := e.optin.Busy(e.ctx, a); err != nil || !ok || busy != s.ID {
		t.Fatalf("Busy during the window = %s, %v, %v", busy, ok, err)
	}
	deadline := t0.Add(105 * time.Second)
	e.clock.Advance(10 * time.Second)
	r := e.choose(a, s.ID, "MATCH")
	if r.Status != optin.StatusPending || r.Deadline == nil || !r.Deadline.Equal(deadline) || r.Outcome != "" {
		t.Fatalf("first MATCH = %+v, want pending until %v", r, deadline)
	}
	if again := e.choose(a, s.ID, "MATCH"); again.Status != optin.StatusPending || !again.Deadline.Equal(deadline) {
		t.Fatalf("MATCH again = %+v", again)
	}
	if _, err := e.optin.Choose(e.ctx, a, s.ID, "PASS"); !errors.Is(err, optin.ErrChoiceAlreadyMade) {
		t.Fatalf("PASS after MATCH = %v, want ErrChoiceAlreadyMade", err)
	}
	if n := len(e.notes.named(optin.EventMutual)) + len(e.notes.named(optin.EventNonMutual)); n != 0 {
		t.Fatalf("%d outcome events before the second choice", n)
	}
	r = e.choose(b, s.ID, "MATCH")
	if r.Status != optin.StatusResolved || r.Outcome != optin.Mutual || !uuid.Valid(r.MatchID) || r.Deadline != nil {
		t.Fatalf("second MATCH = %+v, want resolved, mutual", r)
	}
	evs := e.notes.named(optin.EventMutual)
	if len(evs) != 2 {
		t.Fatalf("%d match:mutual events, want 2", len(evs))
	}
	for i, u := range []string{a, b} {
		var data optin.MutualEvent
		if err := json.Unmarshal(evs[i].Data, &data); err != nil {
			t.Fatal(err)
		}
		if evs[i].Namespace != optin.Namespace || evs[i].Target != rv.UserTarget(u) || data != (optin.MutualEvent{SessionID: s.ID, MatchID: r.MatchID}) {
			t.Errorf("event %d = %s %s %+v", i, evs[i].Namespace, evs[i].Target, data)
		}
	}
	m, err := e.optin.Match(e.ctx, r.MatchID)
	if err != nil || m.SessionID != s.ID || !(m.Users == [2]string{a, b} || m.Users == [2]string{b, a}) || m.Users[0] > m.Users[1] {
		t.Fatalf("Match = %+v, %v", m, err)
	}
	// Both see the resolution; the same choice returns it.
	if r2 := e.choose(a, s.ID, "MATCH"); r2 != r {
		t.Errorf("MATCH after the resolution = %+v, want %+v", r2, r)
	}
	if _, ok, err := e.optin.Busy(e.ctx, a); err != nil || ok {
		t.Errorf("Busy after the resolution = %v, %v", ok, err)
	}
	// The auto-pass was cancelled: nothing runs at the deadline.
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs ran after the resolution", n)
	}
	if n := len(e.notes.named(optin.EventMutual)) + len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Errorf("%d outcome events, want 2", n)
	}
	for _, id := range []string{uuid.New(), "x"} {
		if _, err := e.optin.Match(e.ctx, id); !errors.Is(err, optin.ErrMatchNotFound) {
			t.Errorf("Match(%s) = %v", id, err)
		}
	}
}

// TestHangUpOpensTheWindowAtOnce: the window is open when End returns,
// before the end job has announced the end.
func TestHangUpOpensTheWindowAtOnce(t *testing.T) {
	e := newEnv(t)
	s := e.call("", "")
	a, b := users(s)
	e.clock.Advance(20 * time.Second)
	if _, err := e.sessions.End(e.ctx, b, s.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.choose(a, s.ID, "PASS"); r.Status != optin.StatusPending || !r.Deadline.Equal(t0.Add(80*time.Second)) {
		t.Fatalf("PASS = %+v", r)
	}
	r := e.choose(b, s.ID, "MATCH")
	if r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual || r.MatchID != "" {
		t.Fatalf("MATCH after PASS = %+v, want non-mutual", r)
	}
	evs := e.notes.named(optin.EventNonMutual)
	if len(evs) != 2 {
		t.Fatalf("%d match:non_mutual events", len(evs))
	}
	var data optin.NonMutualEvent
	if err := json.Unmarshal(evs[0].Data, &data); err != nil || data != (optin.NonMutualEvent{SessionID: s.ID, Outcome: optin.NonMutual}) {
		t.Errorf("event = %+v, %v", data, err)
	}
	// The end job announces the end; re-opening the window changes nothing.
	if n := e.runDue(); n != 1 || len(e.notes.named(session.EventEnd)) != 2 {
		t.Fatalf("end job: %d jobs, %d end events", n, len(e.notes.named(session.EventEnd)))
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 || len(e.notes.named(optin.EventNonMutual)) != 2 {
		t.Errorf("after the resolution: %d jobs, %d events", n, len(e.notes.named(optin.EventNonMutual)))
	}
}

func TestChooseErrors(t *testing.T) {
	e := newEnv(t)
	s := e.ended("", "")
	a, _ := users(s)
	live := e.call("", "")
	violation := e.call("", "")
	if _, err := e.sessions.Terminate(e.ctx, violation.ID, session.ReasonTokenError); err != nil {
		t.Fatal(err)
	}
	// A session whose end is still in progress: ended, window not opened yet.
	opening := e.call("", "")
	if _, _, err := memoryEnd(e, opening.ID); err != nil {
		t.Fatal(err)
	}
	oa, _ := users(opening)
	va, _ := users(violation)
	la, _ := users(live)
	cases := []struct {
		name           string
		user, id, what string
		want           error
	}{
		{"empty choice", a, s.ID, "", optin.ErrInvalidChoice},
		{"lower case", a, s.ID, "match", optin.ErrInvalidChoice},
		{"other word", a, s.ID, "MAYBE", optin.ErrInvalidChoice},
		{"invalid id", a, "../etc", "MATCH", session.ErrSessionNotFound},
		{"unknown id", a, uuid.New(), "MATCH", session.ErrSessionNotFound},
		{"outsider with a window", "carol", s.ID, "MATCH", optin.ErrNotAParticipant},
		{"outsider without a window", "carol", live.ID, "PASS", optin.ErrNotAParticipant},
		{"live", la, live.ID, "MATCH", optin.ErrSessionNotEnded},
		{"window about to open", oa, opening.ID, "MATCH", optin.ErrSessionNotEnded},
		{"ended without a call", va, violation.ID, "MATCH", optin.ErrNoChoice},
	}
	for _, c := range cases {
		if _, err := e.optin.Choose(e.ctx, c.user, c.id, c.what); !errors.Is(err, c.want) {
			t.Errorf("%s: Choose = %v, want %v", c.name, err, c.want)
		}
	}
	// A token_error session offers no choice either.
	tokenless := newEnvWithFailingIssuer(t)
	ts, err := tokenless.sessions.Start(tokenless.ctx, session.StartRequest{
		SessionID: uuid.New(), Users: [2]session.StartUser{{UserID: "x", DebitKey: "1"}, {UserID: "y", DebitKey: "2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokenless.optin.Choose(tokenless.ctx, "x", ts.ID, "MATCH"); !errors.Is(err, optin.ErrNoChoice) {
		t.Errorf("Choose after token_error = %v, want ErrNoChoice", err)
	}
}

// memoryEnd ends session id in the session store behind the services'
// back, as a crash between the end and OnEnded would leave it.
func memoryEnd(e *env, id string) (session.Session, bool, error) {
	return e.sessionStore().End(e.ctx, id, session.ReasonEnded, e.clock.Now())
}

func (e *env) sessionStore() session.Store { return e.sessions.Config().Store }

func newEnvWithFailingIssuer(t *testing.T) *env {
	e := newEnv(t)
	cfg := e.sessions.Config()
	cfg.Issuer = failingIssuer{}
	svc, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.sessions = svc
	return e
}

type failingIssuer struct{}

func (failingIssuer) IssueVideoTokens(context.Context, session.TokenRequest) (session.VideoCredentials, error) {
	return session.VideoCredentials{}, errors.New("no credentials")
}

func TestAutoPassResolvesOnce(t *testing.T) {
	e := newEnv(t)
	s := e.ended("", "")
	a, b := users(s)
	e.choose(a, s.ID, "MATCH")
	e.clock.Advance(59 * time.Second)
	if n := e.runDue(); n != 0 {
		t.Fatalf("%d jobs before the deadline", n)
	}
	if _, ok, _ := e.optin.Busy(e.ctx, b); !ok {
		t.Fatal("not busy before the deadline")
	}
	e.clock.Advance(time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at the deadline, want the auto-pass", n)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Fatalf("%d match:non_mutual events, want 2", n)
	}
	w, err := e.store.Get(e.ctx, s.ID)
	if err != nil || w.Outcome != optin.NonMutual || !w.ResolvedAt.Equal(t0.Add(105*time.Second)) {
		t.Fatalf("window = %+v, %v", w, err)
	}
	// Running the job again neither resolves again nor announces again.
	payload, _ := json.Marshal(s.ID)
	job := rv.Job{Key: optin.AutoPassJobKey(s.ID), Kind: optin.AutoPassJobKind, Due: w.Deadline, Payload: payload, Attempt: 1}
	if err := e.optin.HandleAutoPass(e.ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Fatalf("the auto-pass again announced again (%d events)", n)
	}
	if got, _ := e.store.Get(e.ctx, s.ID); !got.ResolvedAt.Equal(w.ResolvedAt) {
		t.Fatalf("the auto-pass again changed the window: %+v", got)
	}
	// A retried attempt announces again: it may follow a crash between
	// the resolution and the announcement.
	job.Attempt = 2
	if err := e.optin.HandleAutoPass(e.ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 4 {
		t.Fatalf("a retried auto-pass announced %d events in all, want 4", n)
	}
	// Choices after the deadline see the outcome.
	if r := e.choose(b, s.ID, "MATCH"); r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual {
		t.Errorf("late MATCH = %+v", r)
	}
	if r := e.choose(a, s.ID, "MATCH"); r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual {
		t.Errorf("MATCH again after the auto-pass = %+v", r)
	}
	if _, ok, _ := e.optin.Busy(e.ctx, b); ok {
		t.Error("busy after the auto-pass")
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

func TestAutoPassEarlyIsRetried(t *testing.T) {
	e := newEnv(t)
	s := e.ended("", "")
	payload, _ := json.Marshal(s.ID)
	job := rv.Job{Key: optin.AutoPassJobKey(s.ID), Kind: optin.AutoPassJobKind, Due: e.clock.Now(), Payload: payload, Attempt: 1}
	if err := e.optin.HandleAutoPass(e.ctx, job); err == nil {
		t.Fatal("an auto-pass before the deadline succeeded")
	}
	if w, _ := e.store.Get(e.ctx, s.ID); w.Resolved() {
		t.Fatal("an early auto-pass resolved the window")
	}
	unknown, _ := json.Marshal(uuid.New())
	for _, p := range [][]byte{unknown, []byte("[")} {
		if err := e.optin.HandleAutoPass(e.ctx, rv.Job{Key: "k", Kind: optin.AutoPassJobKind, Due: t0, Payload: p}); err != nil {
			t.Errorf("HandleAutoPass(%s) = %v, want nil", p, err)
		}
	}
}

func TestOpenWindowIsIdempotent(t *testing.T) {
	e := newEnv(t)
	id := uuid.New()
	pair := [2]string{"a-" + uuid.New(), "b-" + uuid.New()}
	if err := e.optin.OpenWindow(e.ctx, id, pair, t0); err != nil {
		t.Fatal(err)
	}
	// Again later (a retried end job): the deadline stays.
	e.clock.Advance(30 * time.Second)
	if err := e.optin.OpenWindow(e.ctx, id, pair, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if w, _ := e.store.Get(e.ctx, id); !w.Deadline.Equal(t0.Add(time.Minute)) {
		t.Fatalf("deadline = %v, want %v", w.Deadline, t0.Add(time.Minute))
	}
	e.clock.Advance(30 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at the first deadline, want the auto-pass", n)
	}
	// Opened again after the resolution: no job.
	if err := e.optin.OpenWindow(e.ctx, id, pair, t0); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs after re-opening a resolved window", n)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Errorf("%d outcome events, want 2", n)
	}
}

func TestSecondMutualReusesTheMatch(t *testing.T) {
	e := newEnv(t)
	first := e.ended("", "")
	a, b := users(first)
	e.choose(a, first.ID, "MATCH")
	r1 := e.choose(b, first.ID, "MATCH")
	second := e.ended(b, a)
	e.choose(a, second.ID, "MATCH")
	r2 := e.choose(b, second.ID, "MATCH")
	if r1.Outcome != optin.Mutual || r2.Outcome != optin.Mutual || r1.MatchID != r2.MatchID {
		t.Fatalf("outcomes %+v and %+v, want one match", r1, r2)
	}
	if m, err := e.optin.Match(e.ctx, r1.MatchID); err != nil || m.SessionID != first.ID {
		t.Fatalf("Match = %+v, %v", m, err)
	}
}

func TestConcurrentChoicesResolveOnce(t *testing.T) {
	e := newEnv(t)
	for range 10 {
		s := e.ended("", "")
		a, b := users(s)
		before := len(e.notes.named(optin.EventMutual))
		var wg sync.WaitGroup
		results := make([]optin.Result, 16)
		for i := range results {
			wg.Go(func() {
				u := a
				if i%2 == 1 {
					u = b
				}
				r, err := e.optin.Choose(e.ctx, u, s.ID, "MATCH")
				if err != nil {
					t.Errorf("Choose: %v", err)
				}
				results[i] = r
			})
		}
		wg.Wait()
		if n := len(e.notes.named(optin.EventMutual)) - before; n != 2 {
			t.Fatalf("%d match:mutual events, want 2 (one resolution)", n)
		}
		var matchID string
		for _, r := range results {
			if r.Status == optin.StatusResolved {
				if matchID != "" && r.MatchID != matchID {
					t.Fatalf("results name matches %s and %s", matchID, r.MatchID)
				}
				matchID = r.MatchID
			}
		}
		if matchID == "" {
			t.Fatal("no result saw the resolution")
		}
	}
}

// TestChoiceAgainAfterTheDeadline: the auto-pass has not run yet (its
// runner is late); a choice made again resolves the window as it would.
func TestChoiceAgainAfterTheDeadline(t *testing.T) {
	e := newEnv(t)
	s := e.ended("", "")
	a, b := users(s)
	e.choose(a, s.ID, "MATCH")
	e.clock.Advance(2 * time.Minute)
	if r := e.choose(a, s.ID, "MATCH"); r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual {
		t.Fatalf("MATCH again after the deadline = %+v, want the non-mutual resolution", r)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Fatalf("%d match:non_mutual events, want 2", n)
	}
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs left: the auto-pass should have been cancelled", n)
	}
	if r := e.choose(b, s.ID, "PASS"); r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual {
		t.Errorf("PASS after the resolution = %+v", r)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Errorf("%d match:non_mutual events, want still 2", n)
	}
}

// Moderation's forced PASS: the offender can no longer MATCH, the other
// may still choose, and the outcome is non-mutual.
func TestForcePass(t *testing.T) {
	e := newEnv(t)
	s := e.ended("", "")
	a, b := users(s)
	for range 2 { // idempotent
		if err := e.optin.ForcePass(e.ctx, s.ID, a); err != nil {
			t.Fatalf("ForcePass: %v", err)
		}
	}
	if _, err := e.optin.Choose(e.ctx, a, s.ID, "MATCH"); !errors.Is(err, optin.ErrChoiceAlreadyMade) {
		t.Fatalf("the offender's MATCH after a forced PASS: %v", err)
	}
	r, err := e.optin.Choose(e.ctx, b, s.ID, "MATCH")
	if err != nil || r.Status != optin.StatusResolved || r.Outcome != optin.NonMutual {
		t.Fatalf("the partner's MATCH: %+v %v", r, err)
	}
	if n := len(e.notes.named(optin.EventNonMutual)); n != 2 {
		t.Fatalf("%d match:non_mutual events, want 2", n)
	}
	// A session that ended without a call has no window: nothing to do.
	noCall := e.call("", "")
	if _, err := e.sessions.Terminate(e.ctx, noCall.ID, session.ReasonTokenError); err != nil {
		t.Fatal(err)
	}
	na, _ := users(noCall)
	if err := e.optin.ForcePass(e.ctx, noCall.ID, na); err != nil {
		t.Fatalf("ForcePass without a window: %v", err)
	}
	// A live call has no window yet: an error, for the caller to retry.
	live := e.call("", "")
	la, _ := users(live)
	if err := e.optin.ForcePass(e.ctx, live.ID, la); !errors.Is(err, optin.ErrSessionNotEnded) {
		t.Fatalf("ForcePass during the call: %v", err)
	}
}
