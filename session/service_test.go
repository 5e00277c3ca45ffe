package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

var t0 = time.Date(2026, 2, 14, 20, 0, 0, 0, time.UTC)

// recorder is a Notifier that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []rv.Event
	fail   atomic.Bool
}

func (r *recorder) Notify(_ context.Context, evs ...rv.Event) error {
	if r.fail.Load() {
		return errors.New("notifier down")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

// named returns the events called name, in order.
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

// issuer is a VideoTokenIssuer that makes tokens from the request, or
// fails while failing is set.
type issuer struct {
	failing atomic.Bool
	calls   atomic.Int32
}

func (i *issuer) IssueVideoTokens(_ context.Context, req session.TokenRequest) (session.VideoCredentials, error) {
	i.calls.Add(1)
	if i.failing.Load() {
		return session.VideoCredentials{}, errors.New("agora: no certificate")
	}
	tok := fmt.Sprintf("%s/%d/%s/%d/%d", req.Channel, req.RTCUID, req.RTMUserID, req.IssuedAt.Unix(), int(req.TTL/time.Second))
	return session.VideoCredentials{
		RTC: &session.RTCCredentials{AppID: "app", Token: "rtc:" + tok, UID: req.RTCUID},
		RTM: &session.RTMCredentials{Token: "rtm:" + tok, UserID: req.RTMUserID},
	}, nil
}

// env is a Service on memory stores with a fake clock and a real
// scheduler run by hand (RunDue).
type env struct {
	t        *testing.T
	ctx      context.Context
	clock    *fakeclock.Clock
	store    *memory.SessionStore
	jobs     *memory.JobStore
	sched    *rv.Scheduler
	notes    *recorder
	issuer   *issuer
	svc      *session.Service
	refunds  sync.Map // debit key → count (*atomic.Int32)
	ended    sync.Map // session id → OnEnded calls (*atomic.Int32)
	started  sync.Map // session id → OnStarted calls (*atomic.Int32)
	endedErr atomic.Pointer[error]
	live     atomic.Int32 // the sum of OnLiveChange's deltas
	reasons  sync.Map     // end reason → OnLiveChange calls (*atomic.Int32)
}

func newEnv(t *testing.T, withIssuer bool) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: fakeclock.New(t0), store: memory.NewSessionStore(), jobs: memory.NewJobStore(), notes: &recorder{}, issuer: &issuer{}}
	e.sched = e.newScheduler(e.jobs)
	cfg := session.Config{
		Store: e.store, Scheduler: e.sched, Notifier: e.notes, Clock: e.clock,
		Refund: func(_ context.Context, key string) error {
			n, _ := e.refunds.LoadOrStore(key, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			return nil
		},
		OnLiveChange: func(delta int, reason session.EndReason) {
			e.live.Add(int32(delta))
			if delta < 0 {
				n, _ := e.reasons.LoadOrStore(string(reason), new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
			}
		},
		OnStarted: func(_ context.Context, s session.Session) {
			n, _ := e.started.LoadOrStore(s.ID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
		},
		OnEnded: func(_ context.Context, s session.Session) error {
			if p := e.endedErr.Load(); p != nil {
				return *p
			}
			n, _ := e.ended.LoadOrStore(s.ID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			return nil
		},
	}
	if withIssuer {
		cfg.Issuer = e.issuer
	}
	svc, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.sched.Handle(session.EndJobKind, svc.HandleEnd)
	return e
}

func (e *env) newScheduler(jobs rv.JobStore) *rv.Scheduler {
	s, err := rv.NewScheduler(rv.SchedulerConfig{Store: jobs, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// runDue runs the due jobs and returns how many there were.
func (e *env) runDue() int {
	e.t.Helper()
	n, err := e.sched.RunDue(e.ctx)
	if err != nil {
		e.t.Fatalf("RunDue: %v", err)
	}
	return n
}

func (e *env) count(m *sync.Map, key string) int {
	if n, ok := m.Load(key); ok {
		return int(n.(*atomic.Int32).Load())
	}
	return 0
}

func request() session.StartRequest {
	return session.StartRequest{
		SessionID: uuid.New(), QueueKey: "eu:any", Region: "eu",
		Users: [2]session.StartUser{
			{UserID: "alice-" + uuid.New(), DebitKey: "debit-a-" + uuid.New()},
			{UserID: "bob-" + uuid.New(), DebitKey: "debit-b-" + uuid.New()},
		},
		MatchedAt: t0,
	}
}

func (e *env) start(req session.StartRequest) session.Session {
	e.t.Helper()
	s, err := e.svc.Start(e.ctx, req)
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	return s
}

func decode[T any](t *testing.T, ev rv.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		t.Fatalf("decode %s: %v", ev.Name, err)
	}
	return v
}

var pseudonymRE = regexp.MustCompile(`^p[0-9a-f]{16}$`)

func TestNewValidates(t *testing.T) {
	jobs := memory.NewJobStore()
	sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: jobs})
	refund := func(context.Context, string) error { return nil }
	for name, cfg := range map[string]session.Config{
		"no store":     {Scheduler: sched, Refund: refund},
		"no scheduler": {Store: memory.NewSessionStore(), Refund: refund},
		"no refund":    {Store: memory.NewSessionStore(), Scheduler: sched},
		"negative":     {Store: memory.NewSessionStore(), Scheduler: sched, Refund: refund, Duration: -time.Second},
		"too short":    {Store: memory.NewSessionStore(), Scheduler: sched, Refund: refund, TokenTTL: time.Millisecond},
	} {
		if _, err := session.New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
	svc, err := session.New(session.Config{Store: memory.NewSessionStore(), Scheduler: sched, Refund: refund})
	if err != nil {
		t.Fatal(err)
	}
	if c := svc.Config(); c.Duration != 45*time.Second || c.TokenTTL != 120*time.Second || c.Clock == nil || c.Notifier == nil || c.Logger == nil {
		t.Errorf("defaults = %+v", c)
	}
}

func TestStartInvalid(t *testing.T) {
	e := newEnv(t, true)
	for name, edit := range map[string]func(*session.StartRequest){
		"no id":          func(r *session.StartRequest) { r.SessionID = "" },
		"id not a uuid":  func(r *session.StartRequest) { r.SessionID = "s1" },
		"no first user":  func(r *session.StartRequest) { r.Users[0].UserID = "" },
		"no second user": func(r *session.StartRequest) { r.Users[1].UserID = "" },
		"same user":      func(r *session.StartRequest) { r.Users[1].UserID = r.Users[0].UserID },
		"no debit key":   func(r *session.StartRequest) { r.Users[1].DebitKey = "" },
		"same debit key": func(r *session.StartRequest) { r.Users[1].DebitKey = r.Users[0].DebitKey },
	} {
		req := request()
		edit(&req)
		if _, err := e.svc.Start(e.ctx, req); !errors.Is(err, session.ErrInvalidStart) {
			t.Errorf("%s: Start = %v, want ErrInvalidStart", name, err)
		}
	}
	if n := len(e.notes.named(session.EventStart)); n != 0 {
		t.Errorf("%d start events for invalid requests", n)
	}
}

// TestStartThenTimeout follows a call from its start to the end job at
// EndAt.
func TestStartThenTimeout(t *testing.T) {
	e := newEnv(t, true)
	req := request()
	s := e.start(req)
	a, b := s.Participants[0], s.Participants[1]
	switch {
	case s.ID != req.SessionID || !s.Live() || !s.StartAt.Equal(t0) || !s.CreatedAt.Equal(t0) || !s.EndAt.Equal(t0.Add(45*time.Second)):
		t.Fatalf("session = %+v", s)
	case a.UserID != req.Users[0].UserID || a.DebitKey != req.Users[0].DebitKey || b.UserID != req.Users[1].UserID || b.DebitKey != req.Users[1].DebitKey:
		t.Fatalf("participants = %+v", s.Participants)
	case a.RTCUID == 0 || b.RTCUID == 0 || a.RTCUID == b.RTCUID:
		t.Fatalf("RTC uids %d and %d, want two distinct non-zero uids", a.RTCUID, b.RTCUID)
	case !pseudonymRE.MatchString(a.RTMUserID) || !pseudonymRE.MatchString(b.RTMUserID) || a.RTMUserID == b.RTMUserID:
		t.Fatalf("RTM ids %q and %q", a.RTMUserID, b.RTMUserID)
	}
	starts := e.notes.named(session.EventStart)
	if len(starts) != 2 {
		t.Fatalf("%d start events, want 2", len(starts))
	}
	for i, ev := range starts {
		p := s.Participants[i]
		data := decode[session.StartEvent](t, ev)
		if ev.Namespace != session.Namespace || ev.Target != rv.UserTarget(p.UserID) {
			t.Errorf("start event %d to %s %s", i, ev.Namespace, ev.Target)
		}
		if data.SessionID != s.ID || data.ChannelName != "session_"+s.ID || data.DurationSeconds != 45 ||
			!data.StartAt.Equal(s.StartAt) || !data.EndAt.Equal(s.EndAt) || !data.ExpiresAt.Equal(t0.Add(120*time.Second)) {
			t.Errorf("start event %d = %+v", i, data)
		}
		if data.RTC == nil || data.RTC.UID != p.RTCUID || data.RTM == nil || data.RTM.UserID != p.RTMUserID {
			t.Errorf("start event %d credentials = %+v %+v, want those of %+v", i, data.RTC, data.RTM, p)
		}
		// Nothing in the event names either user.
		if regexp.MustCompile(regexp.QuoteMeta(a.UserID) + "|" + regexp.QuoteMeta(b.UserID)).Match(ev.Data) {
			t.Errorf("start event %d names a user: %s", i, ev.Data)
		}
	}
	if busy, ok, err := e.svc.Busy(e.ctx, a.UserID); err != nil || !ok || busy != s.ID {
		t.Errorf("Busy = %s, %v, %v", busy, ok, err)
	}

	// Nothing is due before EndAt.
	e.clock.Advance(44 * time.Second)
	if n := e.runDue(); n != 0 {
		t.Fatalf("%d jobs ran before EndAt", n)
	}
	e.clock.Advance(time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs ran at EndAt, want the end job", n)
	}
	got, err := e.svc.Lookup(e.ctx, s.ID)
	if err != nil || got.Live() || got.EndReason != session.ReasonTimeout || !got.EndedAt.Equal(s.EndAt) {
		t.Fatalf("after the end job: %+v, %v", got, err)
	}
	if n := e.count(&e.ended, s.ID); n != 1 {
		t.Errorf("OnEnded ran %d times, want 1", n)
	}
	ends := e.notes.named(session.EventEnd)
	if len(ends) != 2 {
		t.Fatalf("%d end events, want 2", len(ends))
	}
	for i, ev := range ends {
		data := decode[session.EndEvent](t, ev)
		if ev.Target != rv.UserTarget(s.Participants[i].UserID) || data != (session.EndEvent{SessionID: s.ID, Reason: session.ReasonTimeout, EndedAt: s.EndAt}) {
			t.Errorf("end event %d = %s %+v", i, ev.Target, data)
		}
	}
	if _, ok, err := e.svc.Busy(e.ctx, a.UserID); err != nil || ok {
		t.Errorf("Busy after the end = %v, %v", ok, err)
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs ran after the end", n)
	}
	if n := e.count(&e.refunds, a.DebitKey) + e.count(&e.refunds, b.DebitKey); n != 0 {
		t.Errorf("%d refunds of a call that took place", n)
	}
}

func TestStartIsIdempotent(t *testing.T) {
	e := newEnv(t, true)
	req := request()
	first := e.start(req)
	e.clock.Advance(5 * time.Second)
	again := e.start(req)
	if again.Participants != first.Participants || !again.EndAt.Equal(first.EndAt) {
		t.Fatalf("Start again = %+v, want the first session %+v", again, first)
	}
	// The start is sent again, with fresh credentials and the same uids.
	starts := e.notes.named(session.EventStart)
	if len(starts) != 4 {
		t.Fatalf("%d start events, want 4", len(starts))
	}
	if d := decode[session.StartEvent](t, starts[2]); d.RTC.UID != first.Participants[0].RTCUID || !d.ExpiresAt.Equal(t0.Add(125*time.Second)) {
		t.Errorf("the second start = %+v", d)
	}
	// The end job is still due at EndAt, and there is one.
	e.clock.Advance(40 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at EndAt, want 1", n)
	}
	if n := len(e.notes.named(session.EventEnd)); n != 2 {
		t.Fatalf("%d end events, want 2", n)
	}
	// An ended session is returned as it is, with nothing sent.
	ended := e.start(req)
	if ended.Live() || ended.EndReason != session.ReasonTimeout {
		t.Fatalf("Start of an ended session = %+v", ended)
	}
	e.clock.Advance(time.Minute)
	if n := e.runDue(); n != 0 || len(e.notes.named(session.EventStart)) != 4 || len(e.notes.named(session.EventEnd)) != 2 {
		t.Errorf("Start of an ended session did something: %d jobs, events %d/%d", n, len(e.notes.named(session.EventStart)), len(e.notes.named(session.EventEnd)))
	}
}

func TestHangUp(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	a, b := s.Participants[0].UserID, s.Participants[1].UserID
	for name, args := range map[string][2]string{
		"outsider": {"carol", s.ID}, "unknown": {a, uuid.New()}, "invalid": {a, "../x"}, "no user": {"", s.ID},
	} {
		if _, err := e.svc.End(e.ctx, args[0], args[1]); !errors.Is(err, session.ErrSessionNotFound) {
			t.Errorf("End by %s = %v, want ErrSessionNotFound", name, err)
		}
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); !got.Live() {
		t.Fatal("a refused End ended the session")
	}

	e.clock.Advance(10 * time.Second)
	v, err := e.svc.End(e.ctx, a, s.ID)
	if err != nil || v.Status != session.StatusEnded || v.EndReason != session.ReasonEnded || v.EndedAt == nil || !v.EndedAt.Equal(t0.Add(10*time.Second)) || v.RTC != nil || v.RTM != nil {
		t.Fatalf("End = %+v, %v", v, err)
	}
	// OnEnded ran before End returned; the end is announced by the job.
	if n := e.count(&e.ended, s.ID); n != 1 {
		t.Fatalf("OnEnded ran %d times before End returned, want 1", n)
	}
	if n := len(e.notes.named(session.EventEnd)); n != 0 {
		t.Fatalf("%d end events before the end job", n)
	}
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs due after the hang-up, want the end job", n)
	}
	ends := e.notes.named(session.EventEnd)
	if len(ends) != 2 || decode[session.EndEvent](t, ends[0]).Reason != session.ReasonEnded {
		t.Fatalf("end events = %v", ends)
	}
	// The other one hangs up too: the same view, nothing announced again.
	v2, err := e.svc.End(e.ctx, b, s.ID)
	if err != nil || v2.Status != session.StatusEnded || v2.EndReason != session.ReasonEnded || !v2.EndedAt.Equal(*v.EndedAt) {
		t.Fatalf("second End = %+v, %v", v2, err)
	}
	e.clock.Advance(time.Minute)
	if n := e.runDue(); n != 0 || len(e.notes.named(session.EventEnd)) != 2 {
		t.Errorf("the second hang-up was announced again (%d jobs)", n)
	}
}

func TestConcurrentHangUpsAnnounceOnce(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, err := e.svc.End(e.ctx, s.Participants[i%2].UserID, s.ID); err != nil {
				t.Errorf("End: %v", err)
			}
		})
	}
	wg.Wait()
	if n := e.count(&e.ended, s.ID); n != 1 {
		t.Errorf("OnEnded ran %d times, want 1", n)
	}
	e.runDue()
	e.clock.Advance(time.Hour)
	e.runDue()
	if n := len(e.notes.named(session.EventEnd)); n != 2 {
		t.Errorf("%d end events, want 2 (one per participant)", n)
	}
}

func TestTokenErrorRefundsBothAndEndsAtOnce(t *testing.T) {
	e := newEnv(t, true)
	e.issuer.failing.Store(true)
	req := request()
	s, err := e.svc.Start(e.ctx, req)
	if err != nil {
		t.Fatalf("Start = %v, want the ended session and no error", err)
	}
	if s.Live() || s.EndReason != session.ReasonTokenError || !s.EndedAt.Equal(t0) {
		t.Fatalf("session = %+v, want it ended by token_error", s)
	}
	if n := len(e.notes.named(session.EventStart)); n != 0 {
		t.Errorf("%d start events without credentials", n)
	}
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs due at once, want the end job", n)
	}
	for _, u := range req.Users {
		if n := e.count(&e.refunds, u.DebitKey); n != 1 {
			t.Errorf("debit %s refunded %d times, want 1", u.DebitKey, n)
		}
	}
	if n := e.count(&e.ended, s.ID); n != 0 {
		t.Errorf("OnEnded ran %d times for a call that did not take place", n)
	}
	ends := e.notes.named(session.EventEnd)
	if len(ends) != 2 || decode[session.EndEvent](t, ends[1]).Reason != session.ReasonTokenError {
		t.Fatalf("end events = %v", ends)
	}
	// Driven again, the pair is not started again.
	e.issuer.failing.Store(false)
	if again := e.start(req); again.Live() || len(e.notes.named(session.EventStart)) != 0 {
		t.Errorf("Start again after token_error = %+v", again)
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs after the end", n)
	}
}

func TestGetAndCurrentGiveFreshCredentials(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	a := s.Participants[0]
	v, err := e.svc.Get(e.ctx, a.UserID, s.ID)
	if err != nil || v.Status != session.StatusLive || v.EndedAt != nil || v.RTC == nil || v.RTC.UID != a.RTCUID || v.RTM.UserID != a.RTMUserID {
		t.Fatalf("Get = %+v, %v", v, err)
	}
	e.clock.Advance(20 * time.Second)
	v2, err := e.svc.Get(e.ctx, a.UserID, s.ID)
	if err != nil || v2.RTC.Token == v.RTC.Token || !v2.ExpiresAt.Equal(t0.Add(140*time.Second)) {
		t.Fatalf("Get later = %+v, %v; want fresh credentials", v2, err)
	}
	// A socket that connects during the call (a reconnect).
	cur, ok, err := e.svc.Current(e.ctx, a.UserID)
	if err != nil || !ok || cur.SessionID != s.ID || cur.RTC.Token != v2.RTC.Token || !cur.EndAt.Equal(s.EndAt) {
		t.Fatalf("Current = %+v, %v, %v", cur, ok, err)
	}
	if _, ok, err := e.svc.Current(e.ctx, "carol"); err != nil || ok {
		t.Errorf("Current of an outsider = %v, %v", ok, err)
	}
	for name, args := range map[string][2]string{"outsider": {"carol", s.ID}, "unknown": {a.UserID, uuid.New()}, "invalid": {a.UserID, "x"}} {
		if _, err := e.svc.Get(e.ctx, args[0], args[1]); !errors.Is(err, session.ErrSessionNotFound) {
			t.Errorf("Get by %s = %v, want ErrSessionNotFound", name, err)
		}
	}
	// The issuer failing during the call: Get reports it.
	e.issuer.failing.Store(true)
	if _, err := e.svc.Get(e.ctx, a.UserID, s.ID); !errors.Is(err, session.ErrTokenIssuer) {
		t.Errorf("Get with a failing issuer = %v, want ErrTokenIssuer", err)
	}
	if _, _, err := e.svc.Current(e.ctx, a.UserID); !errors.Is(err, session.ErrTokenIssuer) {
		t.Errorf("Current with a failing issuer = %v, want ErrTokenIssuer", err)
	}
	e.issuer.failing.Store(false)

	e.clock.Advance(25 * time.Second)
	e.runDue()
	calls := e.issuer.calls.Load()
	v3, err := e.svc.Get(e.ctx, s.Participants[1].UserID, s.ID)
	if err != nil || v3.Status != session.StatusEnded || v3.EndReason != session.ReasonTimeout || v3.EndedAt == nil || v3.RTC != nil || v3.RTM != nil {
		t.Fatalf("Get after the end = %+v, %v", v3, err)
	}
	if e.issuer.calls.Load() != calls {
		t.Error("Get of an ended session issued credentials")
	}
	if _, ok, err := e.svc.Current(e.ctx, a.UserID); err != nil || ok {
		t.Errorf("Current after the end = %v, %v", ok, err)
	}
	if _, err := e.svc.Lookup(e.ctx, "x"); !errors.Is(err, session.ErrSessionNotFound) {
		t.Errorf("Lookup(invalid) = %v", err)
	}
}

func TestWithoutIssuerCredentialsAreNull(t *testing.T) {
	e := newEnv(t, false)
	s := e.start(request())
	starts := e.notes.named(session.EventStart)
	if len(starts) != 2 {
		t.Fatalf("%d start events", len(starts))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(starts[0].Data, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["rtc"]) != "null" || string(raw["rtm"]) != "null" {
		t.Errorf("start event = %s, want null rtc and rtm", starts[0].Data)
	}
	if v, err := e.svc.Get(e.ctx, s.Participants[1].UserID, s.ID); err != nil || v.Status != session.StatusLive || v.RTC != nil {
		t.Errorf("Get = %+v, %v", v, err)
	}
}

func TestEndJobFiredEarlyIsRetried(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	payload, _ := json.Marshal(s.ID)
	job := rv.Job{Key: session.EndJobKey(s.ID), Kind: session.EndJobKind, Due: s.EndAt, Payload: payload, Attempt: 1}
	e.clock.Advance(30 * time.Second)
	if err := e.svc.HandleEnd(e.ctx, job); err == nil {
		t.Fatal("HandleEnd 15 s before the end succeeded")
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); !got.Live() || len(e.notes.named(session.EventEnd)) != 0 {
		t.Fatal("an early end job ended the session")
	}
	// Within the tolerance it ends the session.
	e.clock.Advance(15*time.Second - session.EndTolerance)
	if err := e.svc.HandleEnd(e.ctx, job); err != nil {
		t.Fatalf("HandleEnd within the tolerance: %v", err)
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); got.Live() || got.EndReason != session.ReasonTimeout {
		t.Fatalf("after HandleEnd: %+v", got)
	}
	// A job of an unknown session, or without an id, is done with.
	unknown, _ := json.Marshal(uuid.New())
	for _, p := range [][]byte{unknown, []byte("{")} {
		if err := e.svc.HandleEnd(e.ctx, rv.Job{Key: "k", Kind: session.EndJobKind, Due: t0, Payload: p}); err != nil {
			t.Errorf("HandleEnd(%s) = %v, want nil", p, err)
		}
	}
}

func TestEndJobRetriesOnEndedAndNotifierFailures(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	boom := errors.New("optin store down")
	e.endedErr.Store(&boom)
	e.clock.Advance(45 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at EndAt", n)
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); got.Live() {
		t.Fatal("the session is still live")
	}
	if n := len(e.notes.named(session.EventEnd)); n != 0 {
		t.Fatalf("the end was announced although OnEnded failed (%d events)", n)
	}
	// The retry after the backoff; now the notifier fails.
	e.endedErr.Store(nil)
	e.notes.fail.Store(true)
	e.clock.Advance(rv.DefaultJobBackoff(1))
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs after the backoff, want the retry", n)
	}
	if n := e.count(&e.ended, s.ID); n != 1 {
		t.Fatalf("OnEnded succeeded %d times, want 1", n)
	}
	e.notes.fail.Store(false)
	e.clock.Advance(rv.DefaultJobBackoff(2))
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs after the second backoff, want the retry", n)
	}
	if n := len(e.notes.named(session.EventEnd)); n != 2 {
		t.Fatalf("%d end events after the retries, want 2", n)
	}
	e.clock.Advance(time.Hour)
	if n := e.runDue(); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

// TestEndJobRunsOnAnotherInstance: the instance that started the call is
// gone; another one, sharing the stores, ends and announces it.
func TestEndJobRunsOnAnotherInstance(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())

	other := &recorder{}
	sched := e.newScheduler(e.jobs)
	svc, err := session.New(session.Config{
		Store: e.store, Scheduler: sched, Notifier: other, Clock: e.clock, Issuer: e.issuer,
		Refund: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	sched.Handle(session.EndJobKind, svc.HandleEnd)
	e.clock.Advance(45 * time.Second)
	if n, err := sched.RunDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("the other instance ran %d jobs, %v", n, err)
	}
	if n := len(other.named(session.EventEnd)); n != 2 {
		t.Fatalf("the other instance announced %d ends, want 2", n)
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); got.EndReason != session.ReasonTimeout {
		t.Fatalf("session = %+v", got)
	}
}

func TestTerminateForModeration(t *testing.T) {
	e := newEnv(t, true)
	s := e.start(request())
	got, err := e.svc.Terminate(e.ctx, s.ID, session.ReasonModeration)
	if err != nil || got.EndReason != session.ReasonModeration {
		t.Fatalf("Terminate = %+v, %v", got, err)
	}
	// The window opens before Terminate returns (the offender's PASS is
	// recorded in it next).
	if n := e.count(&e.ended, s.ID); n != 1 {
		t.Errorf("OnEnded ran %d times before Terminate returned, want 1", n)
	}
	e.runDue()
	if ends := e.notes.named(session.EventEnd); len(ends) != 2 || decode[session.EndEvent](t, ends[0]).Reason != session.ReasonModeration {
		t.Errorf("end events = %v", ends)
	}
	for _, id := range []string{uuid.New(), "x"} {
		if _, err := e.svc.Terminate(e.ctx, id, session.ReasonModeration); !errors.Is(err, session.ErrSessionNotFound) {
			t.Errorf("Terminate(%s) = %v", id, err)
		}
	}
}

func TestStartDrivenAgainAfterEndAt(t *testing.T) {
	e := newEnv(t, true)
	req := request()
	s := e.start(req)
	// The end job is lost (as if its store had been restored from before
	// it); the queue drives the pair again a minute later.
	if _, err := e.jobs.Cancel(e.ctx, session.EndJobKey(s.ID)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if again := e.start(req); again.Participants != s.Participants || !again.Live() {
		t.Fatalf("Start again = %+v", again)
	}
	if n := len(e.notes.named(session.EventStart)); n != 2 {
		t.Errorf("%d start events, want only the first two: the call's time is up", n)
	}
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs, want the end job scheduled again", n)
	}
	if got, _ := e.svc.Lookup(e.ctx, s.ID); got.EndReason != session.ReasonTimeout {
		t.Fatalf("session = %+v", got)
	}
}

// flakyScheduler fails Schedule while failing is set.
type flakyScheduler struct {
	*rv.Scheduler
	failing atomic.Bool
}

func (f *flakyScheduler) Schedule(ctx context.Context, job rv.Job) error {
	if f.failing.Load() {
		return rv.ErrStoreUnavailable
	}
	return f.Scheduler.Schedule(ctx, job)
}

// TestStartRetriedAfterAScheduleFailure: a Start whose end job cannot be
// scheduled fails, sends nothing, and the pair driven again gets the same
// session with its job.
func TestStartRetriedAfterAScheduleFailure(t *testing.T) {
	e := newEnv(t, true)
	flaky := &flakyScheduler{Scheduler: e.sched}
	cfg := e.svc.Config()
	cfg.Scheduler = flaky
	svc, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := request()
	flaky.failing.Store(true)
	if _, err := svc.Start(e.ctx, req); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Fatalf("Start with a failing scheduler = %v", err)
	}
	if n := len(e.notes.named(session.EventStart)); n != 0 {
		t.Fatalf("%d start events of a failed Start", n)
	}
	first, _ := svc.Lookup(e.ctx, req.SessionID)
	flaky.failing.Store(false)
	again, err := svc.Start(e.ctx, req)
	if err != nil || again.Participants != first.Participants {
		t.Fatalf("Start again = %+v, %v; want the stored session", again, err)
	}
	if n := len(e.notes.named(session.EventStart)); n != 2 {
		t.Fatalf("%d start events, want 2", n)
	}
	e.clock.Advance(45 * time.Second)
	if n := e.runDue(); n != 1 {
		t.Fatalf("%d jobs at EndAt, want the end job", n)
	}
}

// OnStarted runs once session:start was sent, not for a session whose
// credentials failed, and again for a live pair driven again.
func TestOnStarted(t *testing.T) {
	e := newEnv(t, true)
	req := request()
	s := e.start(req)
	if n := e.count(&e.started, s.ID); n != 1 || len(e.notes.named(session.EventStart)) != 2 {
		t.Fatalf("OnStarted ran %d times, %d start events", n, len(e.notes.named(session.EventStart)))
	}
	e.start(req)
	if n := e.count(&e.started, s.ID); n != 2 {
		t.Fatalf("OnStarted ran %d times after a second Start, want 2", n)
	}
	e.issuer.failing.Store(true)
	failed := e.start(request())
	if n := e.count(&e.started, failed.ID); n != 0 || failed.EndReason != session.ReasonTokenError {
		t.Fatalf("OnStarted ran %d times for a session whose credentials failed (%+v)", n, failed)
	}
}

// OnLiveChange counts each session once when it starts and once when it
// ends, however many times it is driven or hung up.
func TestOnLiveChange(t *testing.T) {
	e := newEnv(t, true)
	req := request()
	s := e.start(req)
	e.start(req) // driven again: not a new session
	other := e.start(request())
	if n := e.live.Load(); n != 2 {
		t.Fatalf("live %d after two starts, want 2", n)
	}
	if _, err := e.svc.End(e.ctx, s.Participants[0].UserID, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.End(e.ctx, s.Participants[1].UserID, s.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.runDue() // the end job of s, and the timeout of other
	if n := e.live.Load(); n != 0 {
		t.Fatalf("live %d after both ended, want 0", n)
	}
	if e.count(&e.reasons, string(session.ReasonEnded)) != 1 || e.count(&e.reasons, string(session.ReasonTimeout)) != 1 {
		t.Errorf("ends by reason: ended %d, timeout %d; want 1 and 1 (%s)", e.count(&e.reasons, string(session.ReasonEnded)), e.count(&e.reasons, string(session.ReasonTimeout)), other.ID)
	}
}
