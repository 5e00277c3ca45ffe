package moderation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

const secret = "whsec_test"

// env is a Service on memory stores and a real scheduler, with fakes
// that record every call.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *fakeclock.Clock
	svc    *moderation.Service
	sched  *rv.Scheduler
	events *memory.ModerationEventStore
	bans   *memory.BanStore
	logs   *logbuf.Buffer

	mu       sync.Mutex
	sessions map[string]moderation.SessionInfo
	ended    []string
	passes   []string // "session/user"
	left     []string
	notified []rv.Event
	failEnd  int // EndSession fails this many more times
	failPass int
}

func newEnv(t *testing.T, mutate ...func(*moderation.Config)) *env {
	t.Helper()
	e := &env{
		t: t, ctx: context.Background(),
		clock:    fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)),
		events:   memory.NewModerationEventStore(),
		logs:     &logbuf.Buffer{},
		sessions: map[string]moderation.SessionInfo{},
	}
	e.bans = memory.NewBanStore(e.clock)
	sched, err := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: e.clock,
		Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	e.sched = sched
	cfg := moderation.Config{
		Events: e.events, Bans: e.bans, Scheduler: sched, WebhookSecret: secret,
		Session: func(_ context.Context, id string) (moderation.SessionInfo, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			info, ok := e.sessions[id]
			if !ok {
				return moderation.SessionInfo{}, session.ErrSessionNotFound
			}
			return info, nil
		},
		EndSession: func(_ context.Context, id string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.failEnd > 0 {
				e.failEnd--
				return errors.New("session store down")
			}
			e.ended = append(e.ended, id)
			return nil
		},
		ForcePass: func(_ context.Context, id, user string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.failPass > 0 {
				e.failPass--
				return errors.New("optin store down")
			}
			e.passes = append(e.passes, id+"/"+user)
			return nil
		},
		LeaveQueue: func(_ context.Context, user string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.left = append(e.left, user)
			return nil
		},
		Notifier: rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.notified = append(e.notified, evs...)
			return nil
		}),
		Clock:  e.clock,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	svc, err := moderation.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	sched.Handle(moderation.ApplyJobKind, svc.HandleApply)
	return e
}

func (e *env) addSession(id, a, b string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions[id] = moderation.SessionInfo{Users: [2]string{a, b}, Live: true}
}

// deliver sends a signed webhook with body and returns HandleWebhook's
// answer and the signature.
func (e *env) deliver(body string) (error, string) {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	sig := hex.EncodeToString(m.Sum(nil))
	return e.svc.HandleWebhook(e.ctx, []byte(body), sig, strconv.FormatInt(e.clock.Now().Unix(), 10)), sig
}

func (e *env) mustDeliver(body string) {
	e.t.Helper()
	if err, _ := e.deliver(body); err != nil {
		e.t.Fatalf("HandleWebhook(%s): %v", body, err)
	}
}

// runJobs runs the due jobs until none is left due.
func (e *env) runJobs() {
	e.t.Helper()
	for range 100 {
		n, err := e.sched.RunDue(e.ctx)
		if err != nil {
			e.t.Fatalf("RunDue: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("jobs still due after 100 rounds")
}

type action struct {
	User string
	moderation.ActionEvent
}

func (e *env) actions() []action {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []action
	for _, ev := range e.notified {
		if ev.Namespace != moderation.Namespace || ev.Name != moderation.EventAction || !strings.HasPrefix(ev.Target, "user:") {
			e.t.Fatalf("unexpected event %+v", ev)
		}
		var a moderation.ActionEvent
		if err := json.Unmarshal(ev.Data, &a); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, action{User: strings.TrimPrefix(ev.Target, "user:"), ActionEvent: a})
	}
	return out
}

func (e *env) calls() (ended, passes, left []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ended), slices.Clone(e.passes), slices.Clone(e.left)
}

func (e *env) count(user string) int {
	e.t.Helper()
	n, err := e.events.CountSince(e.ctx, user, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func violation(sessionID, user string, n int) string {
	b, _ := json.Marshal(map[string]any{"sessionId": sessionID, "userId": user, "violation": true,
		"reason": "nudity", "labels": []any{"nudity", map[string]any{"label": "x"}}, "severity": "high", "n": n})
	return string(b)
}

func TestViolationEndsTheCallAndWarns(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	e.mustDeliver(violation("s1", "bob", 0))
	if ended, _, _ := e.calls(); len(ended) != 0 {
		t.Fatalf("the webhook applied the violation itself: ended %v", ended)
	}
	e.runJobs()
	ended, passes, left := e.calls()
	if !slices.Equal(ended, []string{"s1"}) || !slices.Equal(passes, []string{"s1/bob"}) || len(left) != 0 {
		t.Errorf("ended %v, passes %v, left %v; want s1 ended, bob PASS, nobody out of the queue", ended, passes, left)
	}
	if a := e.actions(); len(a) != 1 || a[0].User != "bob" || a[0].Action != moderation.ActionWarn || a[0].Reason != "nudity" || a[0].Until != nil {
		t.Errorf("notified %+v, want one warning to bob", a)
	}
	evs, err := e.svc.Events(e.ctx, "bob", 0)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Events = %v, %v", evs, err)
	}
	ev := evs[0]
	if ev.SessionID != "s1" || ev.UserID != "bob" || ev.Reason != "nudity" || !slices.Equal(ev.Labels, []string{"nudity"}) ||
		ev.Severity != "high" || !ev.ReceivedAt.Equal(e.clock.Now()) || ev.ID == "" || ev.DeliveryKey == "" {
		t.Errorf("event = %+v", ev)
	}
	if e.count("alice") != 0 {
		t.Error("the other participant got an event too")
	}
	if err := e.svc.CheckBan(e.ctx, "bob"); err != nil {
		t.Errorf("CheckBan after one violation = %v", err)
	}
}

func TestViolationWithoutUserBlamesBoth(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	e.mustDeliver(`{"sessionId":"s1","action":"Violation","labels":["gore"]}`)
	e.runJobs()
	_, passes, _ := e.calls()
	slices.Sort(passes)
	if !slices.Equal(passes, []string{"s1/alice", "s1/bob"}) {
		t.Errorf("passes = %v, want both", passes)
	}
	if e.count("alice") != 1 || e.count("bob") != 1 {
		t.Errorf("events: alice %d, bob %d; want 1 each", e.count("alice"), e.count("bob"))
	}
	a := e.actions()
	if len(a) != 2 || a[0].Reason != "gore" {
		t.Errorf("notified %+v, want a warning to each with the label as reason", a)
	}
}

func TestWebhookRejections(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	body := violation("s1", "bob", 0)
	ts := strconv.FormatInt(e.clock.Now().Unix(), 10)
	for _, c := range []struct {
		name string
		err  error
		kind rv.Kind
		run  func() error
	}{
		{"BadSignature", rv.ErrInvalidSignature, rv.KindUnauthenticated, func() error {
			return e.svc.HandleWebhook(e.ctx, []byte(body), strings.Repeat("ab", 32), ts)
		}},
		{"NoTimestamp", rv.ErrInvalidSignature, rv.KindUnauthenticated, func() error {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(body))
			return e.svc.HandleWebhook(e.ctx, []byte(body), hex.EncodeToString(m.Sum(nil)), "")
		}},
		{"NotAnObject", moderation.ErrInvalidWebhookBody, rv.KindInvalid, func() error { err, _ := e.deliver(`["s1"]`); return err }},
		{"NoSessionID", moderation.ErrInvalidWebhookBody, rv.KindInvalid, func() error { err, _ := e.deliver(`{"violation":true}`); return err }},
		{"NotAParticipant", moderation.ErrInvalidWebhookBody, rv.KindInvalid, func() error { err, _ := e.deliver(violation("s1", "mallory", 0)); return err }},
		{"UnknownSession", session.ErrSessionNotFound, rv.KindNotFound, func() error { err, _ := e.deliver(violation("s9", "bob", 0)); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if !errors.Is(err, c.err) || rv.KindOf(err) != c.kind {
				t.Errorf("HandleWebhook = %v (kind %v), want %v of kind %v", err, rv.KindOf(err), c.err, c.kind)
			}
		})
	}
	// Not a violation: acknowledged, nothing applied.
	if err, _ := e.deliver(`{"sessionId":"s1","violation":false,"unknown":{"deep":[1]}}`); err != nil {
		t.Errorf("a report without violation = %v, want it acknowledged", err)
	}
	e.runJobs()
	ended, passes, left := e.calls()
	if len(ended)+len(passes)+len(left)+len(e.actions()) != 0 || e.count("bob") != 0 || e.count("mallory") != 0 {
		t.Errorf("rejected webhooks applied something: ended %v, passes %v, left %v, actions %v", ended, passes, left, e.actions())
	}

	// Without a secret, webhooks are unavailable.
	e2 := newEnv(t, func(c *moderation.Config) { c.WebhookSecret = "" })
	if err, _ := e2.deliver(body); !errors.Is(err, moderation.ErrWebhookUnavailable) || rv.KindOf(err) != rv.KindUnavailable {
		t.Errorf("HandleWebhook without a secret = %v, want MODERATION_UNAVAILABLE", err)
	}
}

func TestReplayIsAppliedOnce(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	body := violation("s1", "bob", 0)
	e.mustDeliver(body)
	e.runJobs()
	e.clock.Advance(time.Minute)
	e.mustDeliver(body) // the same delivery again, within the tolerance
	e.runJobs()
	if n := e.count("bob"); n != 1 {
		t.Errorf("events after a replay = %d, want 1", n)
	}
	if a := e.actions(); len(a) != 1 {
		t.Errorf("notified %+v after a replay, want one warning", a)
	}
	// A stale timestamp is refused.
	_, sig := e.deliver(body)
	stale := strconv.FormatInt(e.clock.Now().Add(-6*time.Minute).Unix(), 10)
	if err := e.svc.HandleWebhook(e.ctx, []byte(body), sig, stale); !errors.Is(err, rv.ErrInvalidSignature) {
		t.Errorf("a stale delivery = %v, want INVALID_SIGNATURE", err)
	}
	// Once the delivery is forgotten, the same signed body with a fresh
	// timestamp is taken again, and still logs nothing new.
	e.clock.Advance(time.Hour)
	e.mustDeliver(body)
	e.runJobs()
	if n := e.count("bob"); n != 1 {
		t.Errorf("events after a late redelivery = %d, want 1", n)
	}
	if a := e.actions(); len(a) != 1 {
		t.Errorf("notified %+v after a late redelivery, want one warning", a)
	}
}

func TestConcurrentDeliveriesLogOneEvent(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	body := violation("s1", "bob", 0)
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i], _ = e.deliver(body)
			if i%3 == 0 {
				_, _ = e.sched.RunDue(e.ctx)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	e.runJobs()
	if c := e.count("bob"); c != 1 {
		t.Errorf("%d concurrent deliveries logged %d events, want 1", n, c)
	}
	if a := e.actions(); len(a) != 1 {
		t.Errorf("notified %d times, want one warning", len(a))
	}
}

func TestThirdViolationBansOnce(t *testing.T) {
	e := newEnv(t)
	for i := range 2 {
		id := fmt.Sprintf("s%d", i)
		e.addSession(id, "bob", fmt.Sprintf("peer%d", i))
		e.mustDeliver(violation(id, "bob", i))
		e.runJobs()
		e.clock.Advance(time.Hour)
	}
	if err := e.svc.CheckBan(e.ctx, "bob"); err != nil {
		t.Fatalf("banned after two violations: %v", err)
	}
	// Four more violations at once: the third makes the ban, once.
	var wg sync.WaitGroup
	for i := 2; i < 6; i++ {
		id := fmt.Sprintf("s%d", i)
		e.addSession(id, "bob", fmt.Sprintf("peer%d", i))
		wg.Go(func() {
			if err, _ := e.deliver(violation(id, "bob", i)); err != nil {
				t.Error(err)
			}
			_, _ = e.sched.RunDue(e.ctx)
		})
	}
	wg.Wait()
	e.runJobs()
	if c := e.count("bob"); c != 6 {
		t.Errorf("events = %d, want 6", c)
	}
	var bans []action
	for _, a := range e.actions() {
		if a.Action == moderation.ActionBan {
			bans = append(bans, a)
		}
	}
	wantUntil := e.clock.Now().Add(24 * time.Hour)
	if len(bans) != 1 || bans[0].User != "bob" || bans[0].Until == nil || !bans[0].Until.Equal(wantUntil) {
		t.Fatalf("ban notifications = %+v, want one to bob until %v", bans, wantUntil)
	}
	if _, _, left := e.calls(); !slices.Equal(left, []string{"bob"}) {
		t.Errorf("LeaveQueue calls = %v, want bob once", left)
	}
	err := e.svc.CheckBan(e.ctx, "bob")
	if !errors.Is(err, moderation.ErrUserBanned) || rv.KindOf(err) != rv.KindForbidden {
		t.Fatalf("CheckBan = %v, want USER_BANNED", err)
	}
	d := rv.AsError(err).Details
	if u, ok := d["until"].(time.Time); !ok || !u.Equal(wantUntil) || u.Location() != time.UTC {
		t.Errorf("details = %v, want until %v in UTC", d, wantUntil)
	}
	if !strings.Contains(rv.AsError(err).Message, wantUntil.Format(time.RFC3339)) {
		t.Errorf("message %q does not name the end of the ban", rv.AsError(err).Message)
	}
	// The ban ends with the clock.
	e.clock.Advance(24 * time.Hour)
	if err := e.svc.CheckBan(e.ctx, "bob"); err != nil {
		t.Errorf("CheckBan after the ban ended = %v", err)
	}
}

func TestViolationsOutsideTheWindowDoNotBan(t *testing.T) {
	e := newEnv(t, func(c *moderation.Config) { c.BanThreshold = 2; c.Window = time.Hour })
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		e.addSession(id, "bob", "alice")
		e.mustDeliver(violation(id, "bob", i))
		e.runJobs()
		e.clock.Advance(61 * time.Minute)
	}
	if err := e.svc.CheckBan(e.ctx, "bob"); err != nil {
		t.Errorf("banned for violations more than a window apart: %v", err)
	}
	e.addSession("s9", "bob", "alice")
	e.mustDeliver(violation("s9", "bob", 9))
	e.clock.Advance(59 * time.Minute)
	e.mustDeliver(violation("s9", "bob", 10))
	e.runJobs()
	if err := e.svc.CheckBan(e.ctx, "bob"); !errors.Is(err, moderation.ErrUserBanned) {
		t.Errorf("CheckBan after two violations within the window = %v", err)
	}
}

func TestFailedStepsAreRetried(t *testing.T) {
	e := newEnv(t, func(c *moderation.Config) { c.BanThreshold = 1 })
	e.addSession("s1", "alice", "bob")
	e.mu.Lock()
	e.failEnd, e.failPass = 1, 1
	e.mu.Unlock()
	e.mustDeliver(violation("s1", "bob", 0))
	e.runJobs() // fails at EndSession, then at ForcePass, then succeeds
	ended, passes, left := e.calls()
	if !slices.Equal(ended, []string{"s1", "s1"}) || !slices.Equal(passes, []string{"s1/bob"}) {
		t.Errorf("ended %v, passes %v; want the job run to its end", ended, passes)
	}
	if e.count("bob") != 1 || len(e.actions()) != 2 {
		t.Errorf("events %d, actions %+v; want one event, one warning and one ban", e.count("bob"), e.actions())
	}
	if len(left) != 1 {
		t.Errorf("LeaveQueue calls = %v, want one", left)
	}
}

func TestOperatorBanAndLift(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.BanUser(e.ctx, "carol", -time.Hour); !errors.Is(err, moderation.ErrInvalidBan) || rv.KindOf(err) != rv.KindInvalid {
		t.Errorf("BanUser with a negative duration = %v", err)
	}
	if _, err := e.svc.BanUser(e.ctx, "", 0); !errors.Is(err, moderation.ErrInvalidBan) {
		t.Errorf("BanUser without a user = %v", err)
	}
	if _, err := e.svc.BanUser(e.ctx, "carol", moderation.MaxBanDuration+time.Hour); !errors.Is(err, moderation.ErrInvalidBan) {
		t.Errorf("BanUser over the longest ban = %v", err)
	}
	b, err := e.svc.BanUser(e.ctx, "carol", 0)
	if err != nil || b.UserID != "carol" || !b.Until.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("BanUser = %+v, %v; want a 24 h ban", b, err)
	}
	again, err := e.svc.BanUser(e.ctx, "carol", 2*time.Hour)
	if err != nil || !again.Until.Equal(b.Until) {
		t.Errorf("BanUser while banned = %+v, %v; want the ban in force", again, err)
	}
	if a := e.actions(); len(a) != 1 || a[0].Action != moderation.ActionBan || a[0].Until == nil {
		t.Errorf("notified %+v, want one ban", a)
	}
	if _, _, left := e.calls(); len(left) != 2 {
		t.Errorf("LeaveQueue calls = %v, want one per BanUser", left)
	}
	if !errors.Is(e.svc.CheckBan(e.ctx, "carol"), moderation.ErrUserBanned) {
		t.Error("carol is not banned")
	}
	if lifted, err := e.svc.LiftBan(e.ctx, "carol"); err != nil || !lifted {
		t.Errorf("LiftBan = %v, %v", lifted, err)
	}
	if err := e.svc.CheckBan(e.ctx, "carol"); err != nil {
		t.Errorf("CheckBan after LiftBan = %v", err)
	}
	if lifted, err := e.svc.LiftBan(e.ctx, "carol"); err != nil || lifted {
		t.Errorf("LiftBan again = %v, %v", lifted, err)
	}
	b, err = e.svc.BanUser(e.ctx, "carol", 2*time.Hour)
	if err != nil || !b.Until.Equal(e.clock.Now().Add(2*time.Hour)) {
		t.Errorf("BanUser for 2 h = %+v, %v", b, err)
	}
}

func TestEventsLimits(t *testing.T) {
	e := newEnv(t)
	e.addSession("s1", "alice", "bob")
	for i := range 3 {
		e.mustDeliver(violation("s1", "bob", i))
		e.clock.Advance(time.Second)
	}
	e.runJobs()
	evs, err := e.svc.Events(e.ctx, "bob", 2)
	if err != nil || len(evs) != 2 || !evs[0].ReceivedAt.After(evs[1].ReceivedAt) {
		t.Errorf("Events(2) = %+v, %v; want the newest two, newest first", evs, err)
	}
	if evs, _ := e.svc.Events(e.ctx, "", 0); len(evs) != 3 {
		t.Errorf("Events of everyone = %d, want 3", len(evs))
	}
	if evs, _ := e.svc.Events(e.ctx, "bob", 5000); len(evs) != 3 {
		t.Errorf("Events(5000) = %d, want 3", len(evs))
	}
}

type fakeSubmitter struct {
	mu   sync.Mutex
	got  []moderation.StreamSubmission
	err  error
	boom bool
}

func (f *fakeSubmitter) Submit(_ context.Context, s moderation.StreamSubmission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.boom {
		panic("submitter exploded")
	}
	f.got = append(f.got, s)
	return f.err
}

func TestSubmitCall(t *testing.T) {
	sub := &fakeSubmitter{}
	var identityErr error
	e := newEnv(t, func(c *moderation.Config) {
		c.Submitter = sub
		c.BotIdentity = func(_ context.Context, channel string) (string, uint32, string, error) {
			return "app-1", 4000000001, "token-for-" + channel, identityErr
		}
	})
	if err := e.svc.SubmitCall(e.ctx, "s1", "ch-1"); err != nil {
		t.Fatalf("SubmitCall: %v", err)
	}
	want := moderation.StreamSubmission{SessionID: "s1", Channel: "ch-1", AppID: "app-1", UID: 4000000001, Token: "token-for-ch-1"}
	if len(sub.got) != 1 || sub.got[0] != want {
		t.Errorf("submitted %+v, want %+v", sub.got, want)
	}

	sub.err = errors.New("hive down")
	if err := e.svc.SubmitCall(e.ctx, "s2", "ch-2"); err == nil || !strings.Contains(e.logs.String(), "hive down") || !strings.Contains(e.logs.String(), "level=WARN") {
		t.Errorf("SubmitCall with a failing submitter = %v; logs %q", err, e.logs.String())
	}
	identityErr = errors.New("no agora credentials")
	if err := e.svc.SubmitCall(e.ctx, "s3", "ch-3"); err == nil || !strings.Contains(e.logs.String(), "no agora credentials") {
		t.Errorf("SubmitCall with a failing identity = %v", err)
	}
	identityErr = nil
	sub.boom = true
	if err := e.svc.SubmitCall(e.ctx, "s4", "ch-4"); err == nil || !strings.Contains(e.logs.String(), "panicked") {
		t.Errorf("SubmitCall with a panicking submitter = %v", err)
	}
	if err := e.svc.SubmitCall(e.ctx, "", "ch-4"); err == nil {
		t.Error("SubmitCall without a session id succeeded")
	}
	// Without a Submitter it does nothing.
	if err := newEnv(t).svc.SubmitCall(e.ctx, "s1", "ch-1"); err != nil {
		t.Errorf("SubmitCall without a Submitter = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	base := func() moderation.Config {
		noop := func(context.Context, string) error { return nil }
		sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore()})
		return moderation.Config{
			Events: memory.NewModerationEventStore(), Bans: memory.NewBanStore(nil), Scheduler: sched,
			Session:    func(context.Context, string) (moderation.SessionInfo, error) { return moderation.SessionInfo{}, nil },
			EndSession: noop, LeaveQueue: noop,
			ForcePass: func(context.Context, string, string) error { return nil },
		}
	}
	if _, err := moderation.New(base()); err != nil {
		t.Fatalf("New: %v", err)
	}
	for name, m := range map[string]func(*moderation.Config){
		"no events":      func(c *moderation.Config) { c.Events = nil },
		"no bans":        func(c *moderation.Config) { c.Bans = nil },
		"no scheduler":   func(c *moderation.Config) { c.Scheduler = nil },
		"no session":     func(c *moderation.Config) { c.Session = nil },
		"no end":         func(c *moderation.Config) { c.EndSession = nil },
		"no pass":        func(c *moderation.Config) { c.ForcePass = nil },
		"no leave":       func(c *moderation.Config) { c.LeaveQueue = nil },
		"no identity":    func(c *moderation.Config) { c.Submitter = &fakeSubmitter{} },
		"negative":       func(c *moderation.Config) { c.Window = -time.Hour },
		"too long a ban": func(c *moderation.Config) { c.BanDuration = moderation.MaxBanDuration + 1 },
	} {
		cfg := base()
		m(&cfg)
		if _, err := moderation.New(cfg); err == nil {
			t.Errorf("New with %s succeeded", name)
		}
	}
}

// failingScheduler fails its first Schedule.
type failingScheduler struct {
	rv.JobScheduler
	mu    sync.Mutex
	fails int
}

func (f *failingScheduler) Schedule(ctx context.Context, job rv.Job) error {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return rv.ErrStoreUnavailable
	}
	return f.JobScheduler.Schedule(ctx, job)
}

func TestScheduleFailureLetsTheRetryApply(t *testing.T) {
	var fs *failingScheduler
	e := newEnv(t, func(c *moderation.Config) {
		fs = &failingScheduler{JobScheduler: c.Scheduler, fails: 1}
		c.Scheduler = fs
	})
	e.addSession("s1", "alice", "bob")
	body := violation("s1", "bob", 0)
	if err, _ := e.deliver(body); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Fatalf("HandleWebhook with the scheduler down = %v, want STORE_UNAVAILABLE", err)
	}
	e.mustDeliver(body) // the service's retry
	e.runJobs()
	if e.count("bob") != 1 || len(e.actions()) != 1 {
		t.Errorf("after a retried delivery: %d events, actions %+v; want it applied once", e.count("bob"), e.actions())
	}
}
