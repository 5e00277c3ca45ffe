package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/optin"
)

// OptinHarness is one isolated optin.Store under test.
type OptinHarness struct {
	// Store is the implementation under test, empty.
	Store optin.Store
}

// RunOptin runs the optin.Store conformance cases, each as a parallel
// subtest of t with a store from its own call of newHarness: idempotent
// windows, the rules of Choose (participants, a second choice, the
// deadline), Expire, OpenFor, and the atomicity of resolution under
// concurrent calls: two MATCHes make exactly one resolution and one
// Match, a MATCH racing Expire gives one outcome and a Match exactly when
// it is mutual, and every mutual outcome of one pair of users shares one
// Match.
//
// Session and match ids are UUIDs, as the services make them; user ids
// are any non-empty strings. Expire and a late Choose resolve a window
// without recording the missing choices: Choices keep only the choices
// actually made.
func RunOptin(t *testing.T, newHarness func(t *testing.T) OptinHarness) {
	t.Helper()
	for _, c := range optinCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&optinT{T: t, s: h.Store, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// optinT is the state of one case.
type optinT struct {
	*testing.T
	s   optin.Store
	ctx context.Context
	now time.Time
}

// open opens the window of a new session of users (two new users when
// none are given), with a deadline a minute from now.
func (o *optinT) open(users ...string) optin.Window {
	o.Helper()
	for len(users) < 2 {
		users = append(users, "user-"+uuid())
	}
	w := optin.Window{SessionID: uuid(), Users: [2]string{users[0], users[1]}, Deadline: o.now.Add(time.Minute)}
	got, created, err := o.s.Open(o.ctx, w)
	if err != nil || !created {
		o.Fatalf("Open = %v, %v; want created", created, err)
	}
	return got
}

func (o *optinT) choose(sessionID, user string, c optin.Choice) (optin.Window, bool, error) {
	return o.s.Choose(o.ctx, optin.ChoiceRequest{SessionID: sessionID, UserID: user, Choice: c, Now: o.now, MatchID: uuid()})
}

func (o *optinT) get(id string) optin.Window {
	o.Helper()
	w, err := o.s.Get(o.ctx, id)
	if err != nil {
		o.Fatalf("Get(%s): %v", id, err)
	}
	return w
}

func sameWindow(a, b optin.Window) bool {
	return a.SessionID == b.SessionID && a.Users == b.Users && a.Choices == b.Choices && a.Deadline.Equal(b.Deadline) &&
		a.Outcome == b.Outcome && a.MatchID == b.MatchID && a.ResolvedAt.Equal(b.ResolvedAt)
}

func sorted(a, b string) [2]string {
	if b < a {
		return [2]string{b, a}
	}
	return [2]string{a, b}
}

// wantMatch fails unless match id exists for users (in any order) and
// sessionID.
func (o *optinT) wantMatch(id string, users [2]string, sessionID string) optin.Match {
	o.Helper()
	m, err := o.s.Match(o.ctx, id)
	if err != nil {
		o.Fatalf("Match(%s): %v", id, err)
	}
	if m.ID != id || m.Users != sorted(users[0], users[1]) || m.SessionID != sessionID {
		o.Fatalf("Match = %+v, want id %s, users %v, session %s", m, id, sorted(users[0], users[1]), sessionID)
	}
	if m.CreatedAt.IsZero() || m.CreatedAt.Location() != time.UTC {
		o.Errorf("Match.CreatedAt = %v, want a time in UTC", m.CreatedAt)
	}
	return m
}

var optinCases = []struct {
	name string
	run  func(o *optinT)
}{
	{"OpenIsIdempotent", func(o *optinT) {
		w := optin.Window{SessionID: uuid(), Users: [2]string{"user-" + uuid(), "user-" + uuid()}, Deadline: o.now.Add(time.Minute).In(time.FixedZone("X", -7200))}
		got, created, err := o.s.Open(o.ctx, w)
		if err != nil || !created || !sameWindow(got, w) || got.Resolved() {
			o.Fatalf("Open = %+v, %v, %v; want %+v, created", got, created, err, w)
		}
		if got.Deadline.Location() != time.UTC {
			o.Errorf("Deadline in %v, want UTC", got.Deadline.Location())
		}
		again := w
		again.Deadline = w.Deadline.Add(time.Hour)
		again.Users[0] = "someone-else"
		got, created, err = o.s.Open(o.ctx, again)
		if err != nil || created || !sameWindow(got, w) {
			o.Fatalf("Open again = %+v, %v, %v; want the first window, false", got, created, err)
		}
		if got := o.get(w.SessionID); !sameWindow(got, w) || got.Deadline.Location() != time.UTC {
			o.Fatalf("Get = %+v, want %+v", got, w)
		}
		for _, id := range []string{uuid(), "not-a-uuid"} {
			if _, err := o.s.Get(o.ctx, id); !errors.Is(err, optin.ErrWindowNotFound) {
				o.Errorf("Get(%s) = %v, want ErrWindowNotFound", id, err)
			}
		}
	}},

	{"ChooseMutual", func(o *optinT) {
		w := o.open()
		a, b := w.Users[0], w.Users[1]
		got, resolved, err := o.choose(w.SessionID, a, optin.ChoiceMatch)
		if err != nil || resolved || got.Resolved() || got.Choices != [2]optin.Choice{optin.ChoiceMatch, ""} {
			o.Fatalf("first MATCH = %+v, %v, %v; want it recorded, pending", got, resolved, err)
		}
		pending := got
		// The same choice again changes nothing; the other is refused.
		if got, resolved, err := o.choose(w.SessionID, a, optin.ChoiceMatch); err != nil || resolved || !sameWindow(got, pending) {
			o.Fatalf("MATCH again = %+v, %v, %v; want it unchanged", got, resolved, err)
		}
		if _, _, err := o.choose(w.SessionID, a, optin.ChoicePass); !errors.Is(err, optin.ErrChoiceAlreadyMade) {
			o.Fatalf("PASS after MATCH = %v, want ErrChoiceAlreadyMade", err)
		}
		if _, _, err := o.choose(w.SessionID, "user-"+uuid(), optin.ChoiceMatch); !errors.Is(err, optin.ErrNotAParticipant) {
			o.Errorf("an outsider's choice = %v, want ErrNotAParticipant", err)
		}
		for _, id := range []string{uuid(), "not-a-uuid"} {
			if _, _, err := o.choose(id, a, optin.ChoiceMatch); !errors.Is(err, optin.ErrWindowNotFound) {
				o.Errorf("Choose(%s) = %v, want ErrWindowNotFound", id, err)
			}
		}
		if got := o.get(w.SessionID); !sameWindow(got, pending) {
			o.Fatalf("the refused choices changed the window: %+v", got)
		}

		matchID := uuid()
		at := o.now.Add(5 * time.Second)
		got, resolved, err = o.s.Choose(o.ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: b, Choice: optin.ChoiceMatch, Now: at, MatchID: matchID})
		if err != nil || !resolved {
			o.Fatalf("second MATCH = %v, %v; want it resolved", resolved, err)
		}
		want := w
		want.Choices = [2]optin.Choice{optin.ChoiceMatch, optin.ChoiceMatch}
		want.Outcome, want.MatchID, want.ResolvedAt = optin.Mutual, matchID, at
		if !sameWindow(got, want) {
			o.Fatalf("resolved window = %+v, want %+v", got, want)
		}
		if got.ResolvedAt.Location() != time.UTC {
			o.Errorf("ResolvedAt in %v, want UTC", got.ResolvedAt.Location())
		}
		if got := o.get(w.SessionID); !sameWindow(got, want) {
			o.Fatalf("Get = %+v, want %+v", got, want)
		}
		m := o.wantMatch(matchID, w.Users, w.SessionID)
		if !m.CreatedAt.Equal(at) {
			o.Errorf("Match.CreatedAt = %v, want %v", m.CreatedAt, at)
		}
		// Choices after the resolution change nothing; the other choice
		// is still refused.
		for _, u := range []string{a, b} {
			if got, resolved, err := o.choose(w.SessionID, u, optin.ChoiceMatch); err != nil || resolved || !sameWindow(got, want) {
				o.Errorf("MATCH of %s after the resolution = %+v, %v, %v; want it unchanged", u, got, resolved, err)
			}
			if _, _, err := o.choose(w.SessionID, u, optin.ChoicePass); !errors.Is(err, optin.ErrChoiceAlreadyMade) {
				o.Errorf("PASS of %s after MATCH = %v, want ErrChoiceAlreadyMade", u, err)
			}
		}
		if got, resolved, err := o.s.Expire(o.ctx, w.SessionID, o.now.Add(time.Hour)); err != nil || resolved || !sameWindow(got, want) {
			o.Errorf("Expire after the resolution = %+v, %v, %v; want it unchanged", got, resolved, err)
		}
	}},

	{"ChooseNonMutual", func(o *optinT) {
		for _, choices := range [][2]optin.Choice{{optin.ChoicePass, optin.ChoiceMatch}, {optin.ChoiceMatch, optin.ChoicePass}, {optin.ChoicePass, optin.ChoicePass}} {
			w := o.open()
			if _, resolved, err := o.choose(w.SessionID, w.Users[1], choices[1]); err != nil || resolved {
				o.Fatalf("first choice = %v, %v", resolved, err)
			}
			matchID := uuid()
			got, resolved, err := o.s.Choose(o.ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: w.Users[0], Choice: choices[0], Now: o.now, MatchID: matchID})
			if err != nil || !resolved || got.Outcome != optin.NonMutual || got.MatchID != "" || got.Choices != choices || !got.ResolvedAt.Equal(o.now) {
				o.Fatalf("choices %v = %+v, %v, %v; want a non-mutual resolution", choices, got, resolved, err)
			}
			if _, err := o.s.Match(o.ctx, matchID); !errors.Is(err, optin.ErrMatchNotFound) {
				o.Errorf("Match of a non-mutual outcome = %v, want ErrMatchNotFound", err)
			}
		}
	}},

	{"ChooseAtTheDeadlineResolvesAsAutoPass", func(o *optinT) {
		w := o.open()
		if _, _, err := o.choose(w.SessionID, w.Users[0], optin.ChoiceMatch); err != nil {
			o.Fatal(err)
		}
		matchID := uuid()
		got, resolved, err := o.s.Choose(o.ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: w.Users[1], Choice: optin.ChoiceMatch, Now: w.Deadline, MatchID: matchID})
		if err != nil || !resolved || got.Outcome != optin.NonMutual || got.MatchID != "" || !got.ResolvedAt.Equal(w.Deadline) {
			o.Fatalf("MATCH at the deadline = %+v, %v, %v; want a non-mutual resolution", got, resolved, err)
		}
		if got.Choices != [2]optin.Choice{optin.ChoiceMatch, ""} {
			o.Errorf("Choices = %v, want the late choice not recorded", got.Choices)
		}
		if _, err := o.s.Match(o.ctx, matchID); !errors.Is(err, optin.ErrMatchNotFound) {
			o.Errorf("Match = %v, want ErrMatchNotFound", err)
		}
	}},

	{"Expire", func(o *optinT) {
		w := o.open()
		if _, _, err := o.choose(w.SessionID, w.Users[1], optin.ChoiceMatch); err != nil {
			o.Fatal(err)
		}
		at := w.Deadline.Add(time.Millisecond)
		got, resolved, err := o.s.Expire(o.ctx, w.SessionID, at)
		if err != nil || !resolved || got.Outcome != optin.NonMutual || got.MatchID != "" || !got.ResolvedAt.Equal(at) ||
			got.Choices != [2]optin.Choice{"", optin.ChoiceMatch} {
			o.Fatalf("Expire = %+v, %v, %v; want a non-mutual resolution", got, resolved, err)
		}
		again, resolved, err := o.s.Expire(o.ctx, w.SessionID, at.Add(time.Second))
		if err != nil || resolved || !sameWindow(again, got) {
			o.Fatalf("Expire again = %+v, %v, %v; want it unchanged", again, resolved, err)
		}
		if got2, resolved, err := o.choose(w.SessionID, w.Users[0], optin.ChoiceMatch); err != nil || resolved || !sameWindow(got2, got) {
			o.Errorf("a choice after Expire = %+v, %v, %v; want it unchanged", got2, resolved, err)
		}
		for _, id := range []string{uuid(), "not-a-uuid"} {
			if _, _, err := o.s.Expire(o.ctx, id, at); !errors.Is(err, optin.ErrWindowNotFound) {
				o.Errorf("Expire(%s) = %v, want ErrWindowNotFound", id, err)
			}
		}
	}},

	{"OpenFor", func(o *optinT) {
		a := "user-" + uuid()
		if _, ok, err := o.s.OpenFor(o.ctx, a, o.now); err != nil || ok {
			o.Fatalf("OpenFor of a new user = %v, %v", ok, err)
		}
		w := o.open("user-"+uuid(), a)
		for _, u := range w.Users {
			got, ok, err := o.s.OpenFor(o.ctx, u, o.now)
			if err != nil || !ok || got.SessionID != w.SessionID {
				o.Fatalf("OpenFor(%s) = %+v, %v, %v; want the window", u, got, ok, err)
			}
		}
		if _, ok, err := o.s.OpenFor(o.ctx, a, w.Deadline); err != nil || ok {
			o.Errorf("OpenFor at the deadline = %v, %v; want false", ok, err)
		}
		if _, ok, err := o.s.OpenFor(o.ctx, "user-"+uuid(), o.now); err != nil || ok {
			o.Errorf("OpenFor of an outsider = %v, %v; want false", ok, err)
		}
		if _, _, err := o.s.Expire(o.ctx, w.SessionID, o.now); err != nil {
			o.Fatal(err)
		}
		if _, ok, err := o.s.OpenFor(o.ctx, a, o.now); err != nil || ok {
			o.Errorf("OpenFor after the resolution = %v, %v; want false", ok, err)
		}
	}},

	{"MatchNotFound", func(o *optinT) {
		for _, id := range []string{uuid(), "not-a-uuid"} {
			if _, err := o.s.Match(o.ctx, id); !errors.Is(err, optin.ErrMatchNotFound) {
				o.Errorf("Match(%s) = %v, want ErrMatchNotFound", id, err)
			}
		}
	}},

	{"SecondMutualOutcomeReusesTheMatch", func(o *optinT) {
		a, b := "user-"+uuid(), "user-"+uuid()
		first := o.open(a, b)
		second := o.open(b, a) // the same two users, the other way round
		resolve := func(w optin.Window) optin.Window {
			o.Helper()
			if _, _, err := o.choose(w.SessionID, w.Users[0], optin.ChoiceMatch); err != nil {
				o.Fatal(err)
			}
			got, resolved, err := o.choose(w.SessionID, w.Users[1], optin.ChoiceMatch)
			if err != nil || !resolved || got.Outcome != optin.Mutual || got.MatchID == "" {
				o.Fatalf("mutual = %+v, %v, %v", got, resolved, err)
			}
			return got
		}
		r1, r2 := resolve(first), resolve(second)
		if r1.MatchID != r2.MatchID {
			o.Fatalf("two mutual outcomes of one pair have matches %s and %s, want one", r1.MatchID, r2.MatchID)
		}
		o.wantMatch(r1.MatchID, [2]string{a, b}, first.SessionID)
	}},

	{"ConcurrentMatchesResolveOnce", func(o *optinT) {
		const rounds, perUser = 10, 8
		for range rounds {
			w := o.open()
			var resolutions atomic.Int32
			results := make([]optin.Window, 2*perUser)
			concurrently(2*perUser, func(i int) {
				got, resolved, err := o.choose(w.SessionID, w.Users[i%2], optin.ChoiceMatch)
				if err != nil {
					o.Errorf("Choose: %v", err)
					return
				}
				if resolved {
					resolutions.Add(1)
				}
				results[i] = got
			})
			if resolutions.Load() != 1 {
				o.Fatalf("%d concurrent MATCHes resolved the window, want exactly 1", resolutions.Load())
			}
			final := o.get(w.SessionID)
			if final.Outcome != optin.Mutual || final.MatchID == "" {
				o.Fatalf("final window = %+v, want mutual", final)
			}
			o.wantMatch(final.MatchID, w.Users, w.SessionID)
			for i, r := range results {
				if r.Resolved() && !sameWindow(r, final) {
					o.Errorf("Choose %d returned %+v, the stored window is %+v", i, r, final)
				}
			}
		}
	}},

	{"MatchRacingExpireHasOneOutcome", func(o *optinT) {
		const rounds = 20
		for range rounds {
			w := o.open()
			if _, _, err := o.choose(w.SessionID, w.Users[0], optin.ChoiceMatch); err != nil {
				o.Fatal(err)
			}
			matchID := uuid()
			var (
				resolutions atomic.Int32
				windows     [2]optin.Window
			)
			concurrently(2, func(i int) {
				var (
					got      optin.Window
					resolved bool
					err      error
				)
				if i == 0 {
					got, resolved, err = o.s.Choose(o.ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: w.Users[1], Choice: optin.ChoiceMatch, Now: o.now, MatchID: matchID})
				} else {
					got, resolved, err = o.s.Expire(o.ctx, w.SessionID, w.Deadline)
				}
				if err != nil {
					o.Errorf("call %d: %v", i, err)
					return
				}
				if resolved {
					resolutions.Add(1)
				}
				windows[i] = got
			})
			if resolutions.Load() != 1 {
				o.Fatalf("%d of MATCH and Expire resolved the window, want exactly 1", resolutions.Load())
			}
			final := o.get(w.SessionID)
			for i, got := range windows {
				if !sameWindow(got, final) {
					o.Errorf("call %d returned %+v, the stored window is %+v", i, got, final)
				}
			}
			switch final.Outcome {
			case optin.Mutual:
				if final.MatchID != matchID {
					o.Fatalf("mutual outcome with match %q, want %s", final.MatchID, matchID)
				}
				o.wantMatch(matchID, w.Users, w.SessionID)
			case optin.NonMutual:
				if final.MatchID != "" {
					o.Fatalf("non-mutual outcome with match %s", final.MatchID)
				}
				if _, err := o.s.Match(o.ctx, matchID); !errors.Is(err, optin.ErrMatchNotFound) {
					o.Fatalf("non-mutual outcome, yet Match(%s) = %v", matchID, err)
				}
			default:
				o.Fatalf("outcome %q", final.Outcome)
			}
		}
	}},

	{"ConcurrentMutualOutcomesOfOnePairShareOneMatch", func(o *optinT) {
		a, b := "user-"+uuid(), "user-"+uuid()
		const n = 12
		windows := make([]optin.Window, n)
		for i := range windows {
			if i%2 == 0 {
				windows[i] = o.open(a, b)
			} else {
				windows[i] = o.open(b, a)
			}
			if _, _, err := o.choose(windows[i].SessionID, a, optin.ChoiceMatch); err != nil {
				o.Fatal(err)
			}
		}
		ids := make([]string, n)
		concurrently(n, func(i int) {
			got, resolved, err := o.choose(windows[i].SessionID, b, optin.ChoiceMatch)
			if err != nil || !resolved || got.Outcome != optin.Mutual {
				o.Errorf("mutual %d = %+v, %v, %v", i, got, resolved, err)
				return
			}
			ids[i] = got.MatchID
		})
		if o.Failed() {
			return
		}
		for i, id := range ids {
			if id != ids[0] {
				o.Fatalf("outcome %d has match %s, outcome 0 has %s; want one match per pair", i, id, ids[0])
			}
		}
		m, err := o.s.Match(o.ctx, ids[0])
		if err != nil || m.Users != sorted(a, b) {
			o.Fatalf("Match = %+v, %v", m, err)
		}
		found := false
		for _, w := range windows {
			found = found || w.SessionID == m.SessionID
		}
		if !found {
			o.Errorf("Match.SessionID %s is none of the pair's sessions", m.SessionID)
		}
	}},
}
