package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/session"
)

// SessionHarness is one isolated session.Store under test.
type SessionHarness struct {
	// Store is the implementation under test, empty.
	Store session.Store
}

// RunSessions runs the session.Store conformance cases, each as a
// parallel subtest of t with a store from its own call of newHarness:
// idempotent creation, the round trip of every field (times in UTC),
// ending exactly once under concurrent Ends, and the live session of a
// user.
//
// Session ids are UUIDs, as session.Service makes them; user ids are any
// non-empty strings.
func RunSessions(t *testing.T, newHarness func(t *testing.T) SessionHarness) {
	t.Helper()
	for _, c := range sessionCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&sessionT{T: t, s: h.Store, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// sessionT is the state of one case.
type sessionT struct {
	*testing.T
	s   session.Store
	ctx context.Context
	now time.Time
}

var rtcSeq atomic.Uint32

// newSession returns a live session of two new users (or of users, when
// given), not yet stored.
func (s *sessionT) newSession(users ...string) session.Session {
	for len(users) < 2 {
		users = append(users, "user-"+uuid())
	}
	var ps [2]session.Participant
	for i := range ps {
		ps[i] = session.Participant{
			UserID:    users[i],
			DebitKey:  "debit-" + uuid(),
			RTCUID:    rtcSeq.Add(1),
			RTMUserID: fmt.Sprintf("p%016x", rtcSeq.Add(1)),
		}
	}
	ps[1].RTCUID = 0xffffffff - ps[0].RTCUID // near the top of the range, distinct from ps[0]
	return session.Session{
		ID: uuid(), QueueKey: "queue:eu:any", Region: "eu", Participants: ps,
		CreatedAt: s.now, StartAt: s.now, EndAt: s.now.Add(45 * time.Second),
	}
}

func (s *sessionT) create(sess session.Session) session.Session {
	s.Helper()
	got, created, err := s.s.Create(s.ctx, sess)
	if err != nil || !created {
		s.Fatalf("Create = %v, %v; want created", created, err)
	}
	return got
}

func (s *sessionT) get(id string) session.Session {
	s.Helper()
	got, err := s.s.Get(s.ctx, id)
	if err != nil {
		s.Fatalf("Get(%s): %v", id, err)
	}
	return got
}

// sameSession reports whether a and b are equal, times compared with
// Equal.
func sameSession(a, b session.Session) bool {
	return a.ID == b.ID && a.QueueKey == b.QueueKey && a.Region == b.Region && a.Participants == b.Participants &&
		a.CreatedAt.Equal(b.CreatedAt) && a.StartAt.Equal(b.StartAt) && a.EndAt.Equal(b.EndAt) &&
		a.EndedAt.Equal(b.EndedAt) && a.EndReason == b.EndReason
}

// utcSession fails unless every non-zero time of sess is in UTC.
func (s *sessionT) utcSession(sess session.Session) {
	s.Helper()
	for name, tm := range map[string]time.Time{"CreatedAt": sess.CreatedAt, "StartAt": sess.StartAt, "EndAt": sess.EndAt, "EndedAt": sess.EndedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			s.Errorf("%s in %v, want UTC", name, tm.Location())
		}
	}
}

var sessionCases = []struct {
	name string
	run  func(s *sessionT)
}{
	{"CreateAndGet", func(s *sessionT) {
		want := s.newSession()
		got := s.create(want)
		if !sameSession(got, want) {
			s.Fatalf("Create returned %+v, want %+v", got, want)
		}
		got = s.get(want.ID)
		if !sameSession(got, want) || !got.Live() {
			s.Fatalf("Get = %+v, want %+v", got, want)
		}
		s.utcSession(got)
		if _, err := s.s.Get(s.ctx, uuid()); !errors.Is(err, session.ErrSessionNotFound) {
			s.Errorf("Get(unknown) = %v, want ErrSessionNotFound", err)
		}
		if _, err := s.s.Get(s.ctx, "not-a-uuid"); !errors.Is(err, session.ErrSessionNotFound) {
			s.Errorf("Get(not-a-uuid) = %v, want ErrSessionNotFound", err)
		}
	}},

	{"TimesComeBackInUTC", func(s *sessionT) {
		sess := s.newSession()
		paris := time.FixedZone("CET", 3600)
		sess.CreatedAt, sess.StartAt, sess.EndAt = sess.CreatedAt.In(paris), sess.StartAt.In(paris), sess.EndAt.In(paris)
		s.create(sess)
		got := s.get(sess.ID)
		if !sameSession(got, sess) {
			s.Fatalf("Get = %+v, want %+v", got, sess)
		}
		s.utcSession(got)
		ended, _, err := s.s.End(s.ctx, sess.ID, session.ReasonEnded, s.now.Add(time.Second).In(paris))
		if err != nil {
			s.Fatal(err)
		}
		s.utcSession(ended)
		s.utcSession(s.get(sess.ID))
	}},

	{"CreateIsIdempotent", func(s *sessionT) {
		first := s.newSession()
		s.create(first)
		again := first
		again.Participants[0].RTCUID, again.Participants[1].RTCUID = 7, 8
		again.Participants[0].RTMUserID = "pother"
		again.EndAt = first.EndAt.Add(time.Hour)
		got, created, err := s.s.Create(s.ctx, again)
		if err != nil || created || !sameSession(got, first) {
			s.Fatalf("Create of an existing id = %+v, %v, %v; want the first session, false", got, created, err)
		}
		if got := s.get(first.ID); !sameSession(got, first) {
			s.Fatalf("a second Create changed the session: %+v", got)
		}
		// Once ended, Create still returns it unchanged.
		if _, ok, err := s.s.End(s.ctx, first.ID, session.ReasonTimeout, s.now.Add(45*time.Second)); err != nil || !ok {
			s.Fatalf("End = %v, %v", ok, err)
		}
		got, created, err = s.s.Create(s.ctx, again)
		if err != nil || created || got.Live() || got.EndReason != session.ReasonTimeout {
			s.Fatalf("Create of an ended session = %+v, %v, %v; want it ended, false", got, created, err)
		}
	}},

	{"ConcurrentCreatesMakeOne", func(s *sessionT) {
		base := s.newSession()
		const n = 16
		var created atomic.Int32
		uids := make([]uint32, n)
		concurrently(n, func(i int) {
			sess := base
			sess.Participants[0].RTCUID = uint32(1000 + i)
			got, ok, err := s.s.Create(s.ctx, sess)
			if err != nil {
				s.Errorf("Create: %v", err)
				return
			}
			if ok {
				created.Add(1)
			}
			uids[i] = got.Participants[0].RTCUID
		})
		if created.Load() != 1 {
			s.Fatalf("%d concurrent Creates created, want exactly 1", created.Load())
		}
		stored := s.get(base.ID).Participants[0].RTCUID
		for i, u := range uids {
			if u != stored {
				s.Errorf("Create %d returned uid %d, the stored session has %d", i, u, stored)
			}
		}
	}},

	{"EndOnce", func(s *sessionT) {
		sess := s.create(s.newSession())
		at := s.now.Add(10 * time.Second)
		ended, ok, err := s.s.End(s.ctx, sess.ID, session.ReasonEnded, at)
		if err != nil || !ok {
			s.Fatalf("End = %v, %v; want true", ok, err)
		}
		if ended.Live() || !ended.EndedAt.Equal(at) || ended.EndReason != session.ReasonEnded {
			s.Fatalf("ended session = %+v", ended)
		}
		want := sess
		want.EndedAt, want.EndReason = at, session.ReasonEnded
		if !sameSession(ended, want) {
			s.Fatalf("End returned %+v, want %+v", ended, want)
		}
		if got := s.get(sess.ID); !sameSession(got, want) {
			s.Fatalf("Get after End = %+v, want %+v", got, want)
		}
		// Again, with another reason: unchanged.
		again, ok, err := s.s.End(s.ctx, sess.ID, session.ReasonTimeout, at.Add(time.Minute))
		if err != nil || ok || !sameSession(again, want) {
			s.Fatalf("End of an ended session = %+v, %v, %v; want it unchanged, false", again, ok, err)
		}
		if _, _, err := s.s.End(s.ctx, uuid(), session.ReasonEnded, at); !errors.Is(err, session.ErrSessionNotFound) {
			s.Errorf("End(unknown) = %v, want ErrSessionNotFound", err)
		}
		if _, _, err := s.s.End(s.ctx, "nope", session.ReasonEnded, at); !errors.Is(err, session.ErrSessionNotFound) {
			s.Errorf("End(not-a-uuid) = %v, want ErrSessionNotFound", err)
		}
	}},

	{"ConcurrentEndsEndOnce", func(s *sessionT) {
		sess := s.create(s.newSession())
		reasons := []session.EndReason{session.ReasonTimeout, session.ReasonEnded, session.ReasonTokenError, session.ReasonModeration}
		const n = 32
		var won atomic.Int32
		results := make([]session.Session, n)
		concurrently(n, func(i int) {
			got, ok, err := s.s.End(s.ctx, sess.ID, reasons[i%len(reasons)], s.now.Add(time.Duration(i)*time.Millisecond))
			if err != nil {
				s.Errorf("End: %v", err)
				return
			}
			if ok {
				won.Add(1)
			}
			results[i] = got
		})
		if won.Load() != 1 {
			s.Fatalf("%d concurrent Ends ended the session, want exactly 1", won.Load())
		}
		final := s.get(sess.ID)
		if final.Live() {
			s.Fatal("the session is still live")
		}
		for i, r := range results {
			if !sameSession(r, final) {
				s.Errorf("End %d returned %+v, the stored session is %+v", i, r, final)
			}
		}
	}},

	{"Live", func(s *sessionT) {
		a, b, c := "user-"+uuid(), "user-"+uuid(), "user-"+uuid()
		if _, ok, err := s.s.Live(s.ctx, a); err != nil || ok {
			s.Fatalf("Live of a new user = %v, %v; want false", ok, err)
		}
		first := s.create(s.newSession(a, b))
		for _, u := range []string{a, b} {
			got, ok, err := s.s.Live(s.ctx, u)
			if err != nil || !ok || !sameSession(got, first) {
				s.Fatalf("Live(%s) = %+v, %v, %v; want the session", u, got, ok, err)
			}
		}
		if _, ok, err := s.s.Live(s.ctx, c); err != nil || ok {
			s.Fatalf("Live of an outsider = %v, %v; want false", ok, err)
		}
		// A newer live session of b (with c, b second) is the one returned.
		second := s.newSession(c, b)
		second.CreatedAt = s.now.Add(time.Second)
		s.create(second)
		if got, ok, err := s.s.Live(s.ctx, b); err != nil || !ok || got.ID != second.ID {
			s.Fatalf("Live(b) = %s, %v, %v; want the newer session %s", got.ID, ok, err, second.ID)
		}
		if got, ok, err := s.s.Live(s.ctx, a); err != nil || !ok || got.ID != first.ID {
			s.Fatalf("Live(a) = %s, %v, %v; want %s", got.ID, ok, err, first.ID)
		}
		// Ending the newer one leaves b's older one.
		if _, _, err := s.s.End(s.ctx, second.ID, session.ReasonModeration, s.now.Add(2*time.Second)); err != nil {
			s.Fatal(err)
		}
		if got, ok, err := s.s.Live(s.ctx, b); err != nil || !ok || got.ID != first.ID {
			s.Fatalf("Live(b) after the newer ended = %s, %v, %v; want %s", got.ID, ok, err, first.ID)
		}
		if _, ok, err := s.s.Live(s.ctx, c); err != nil || ok {
			s.Fatalf("Live(c) after its session ended = %v, %v; want false", ok, err)
		}
		if _, _, err := s.s.End(s.ctx, first.ID, session.ReasonTimeout, s.now.Add(45*time.Second)); err != nil {
			s.Fatal(err)
		}
		for _, u := range []string{a, b} {
			if _, ok, err := s.s.Live(s.ctx, u); err != nil || ok {
				s.Fatalf("Live(%s) after every session ended = %v, %v; want false", u, ok, err)
			}
		}
	}},
}
