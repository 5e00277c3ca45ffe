package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/optin"
)

// ChatHarness is one isolated chat.Store under test, with the optin.Store
// that makes its matches (in the same database).
type ChatHarness struct {
	// Store is the implementation under test, empty.
	Store chat.Store
	// Optin makes the matches Store reads, through mutual outcomes.
	Optin optin.Store
}

// RunChat runs the chat.Store conformance cases, each as a parallel
// subtest of t with stores from its own call of newHarness: the order of
// Matches and its cursors, Seqs without gaps or repeats under 50
// concurrent senders while another reader pages through the history,
// one message per clientMessageId under concurrent retries, the history
// queries (newest, before, after), participants, and Unmatch: the match
// and its history are gone for both, and a new mutual outcome of the same
// two users makes a new, empty match.
//
// Match and message ids are UUIDs, as the services make them.
func RunChat(t *testing.T, newHarness func(t *testing.T) ChatHarness) {
	t.Helper()
	for _, c := range chatCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&chatT{T: t, s: h.Store, o: h.Optin, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Millisecond)})
		})
	}
}

// chatT is the state of one case.
type chatT struct {
	*testing.T
	s   chat.Store
	o   optin.Store
	ctx context.Context
	now time.Time
}

// match makes a match of a and b through a mutual outcome at o.now and
// returns its id.
func (c *chatT) match(a, b string) string {
	c.Helper()
	w := optin.Window{SessionID: uuid(), Users: [2]string{a, b}, Deadline: c.now.Add(time.Hour)}
	if _, _, err := c.o.Open(c.ctx, w); err != nil {
		c.Fatalf("Open: %v", err)
	}
	for _, u := range w.Users {
		if _, _, err := c.o.Choose(c.ctx, optin.ChoiceRequest{SessionID: w.SessionID, UserID: u, Choice: optin.ChoiceMatch, Now: c.now, MatchID: uuid()}); err != nil {
			c.Fatalf("Choose: %v", err)
		}
	}
	got, err := c.o.Get(c.ctx, w.SessionID)
	if err != nil || got.Outcome != optin.Mutual || got.MatchID == "" {
		c.Fatalf("window = %+v, %v; want mutual", got, err)
	}
	return got.MatchID
}

func (c *chatT) send(matchID, sender, text, clientID string, at time.Time) (chat.Message, bool, error) {
	return c.s.Send(c.ctx, chat.NewMessage{ID: uuid(), MatchID: matchID, SenderID: sender, Text: text, ClientMessageID: clientID, CreatedAt: at})
}

func (c *chatT) mustSend(matchID, sender, text string, at time.Time) chat.Message {
	c.Helper()
	m, created, err := c.send(matchID, sender, text, "", at)
	if err != nil || !created {
		c.Fatalf("Send(%s) = %v, %v; want created", text, created, err)
	}
	return m
}

func (c *chatT) history(matchID string, q chat.HistoryQuery) []chat.Message {
	c.Helper()
	ms, err := c.s.Messages(c.ctx, matchID, q)
	if err != nil {
		c.Fatalf("Messages(%+v): %v", q, err)
	}
	return ms
}

func seqs(ms []chat.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// wantSeqs fails unless ms have the Seqs from..to in ascending order.
func (c *chatT) wantSeqs(ms []chat.Message, from, to int64) {
	c.Helper()
	ok := int64(len(ms)) == max(to-from+1, 0)
	for i := 0; ok && i < len(ms); i++ {
		ok = ms[i].Seq == from+int64(i)
	}
	if !ok {
		c.Fatalf("seqs = %v, want %d..%d", seqs(ms), from, to)
	}
}

func newUser() string { return "user-" + uuid() }

var chatCases = []struct {
	name string
	run  func(c *chatT)
}{
	{"MatchIsTheOptinMatch", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		m, err := c.s.Match(c.ctx, id)
		if err != nil {
			c.Fatal(err)
		}
		if m.ID != id || m.Users != sorted(a, b) || m.LastMessage != nil || !m.LastActivity.Equal(m.CreatedAt) || m.CreatedAt.Location() != time.UTC {
			c.Errorf("Match = %+v; want id %s, users %v, no message, LastActivity = CreatedAt in UTC", m, id, sorted(a, b))
		}
		for _, bad := range []string{uuid(), "not-a-uuid", ""} {
			if _, err := c.s.Match(c.ctx, bad); !errors.Is(err, chat.ErrMatchNotFound) {
				c.Errorf("Match(%q) = %v, want ErrMatchNotFound", bad, err)
			}
			if _, _, err := c.send(bad, a, "hi", "", c.now); !errors.Is(err, chat.ErrMatchNotFound) {
				c.Errorf("Send to %q = %v, want ErrMatchNotFound", bad, err)
			}
			if _, err := c.s.Messages(c.ctx, bad, chat.HistoryQuery{Limit: 10}); !errors.Is(err, chat.ErrMatchNotFound) {
				c.Errorf("Messages(%q) = %v, want ErrMatchNotFound", bad, err)
			}
			if _, err := c.s.Unmatch(c.ctx, bad, a, c.now); !errors.Is(err, chat.ErrMatchNotFound) {
				c.Errorf("Unmatch(%q) = %v, want ErrMatchNotFound", bad, err)
			}
		}
	}},
	{"SendAndLastMessage", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		m1 := c.mustSend(id, a, "hello", c.now.Add(time.Second))
		if m1.Seq != 1 || m1.MatchID != id || m1.SenderID != a || m1.Text != "hello" || !m1.CreatedAt.Equal(c.now.Add(time.Second)) || m1.CreatedAt.Location() != time.UTC {
			c.Errorf("first message = %+v", m1)
		}
		// A time before the previous message's is raised to it.
		m2 := c.mustSend(id, b, "hi\nthere", c.now)
		if m2.Seq != 2 || !m2.CreatedAt.Equal(m1.CreatedAt) {
			c.Errorf("second message = %+v, want Seq 2 at %v", m2, m1.CreatedAt)
		}
		m, err := c.s.Match(c.ctx, id)
		if err != nil {
			c.Fatal(err)
		}
		if m.LastMessage == nil || m.LastMessage.ID != m2.ID || m.LastMessage.Seq != 2 || m.LastMessage.Text != m2.Text || !m.LastActivity.Equal(m2.CreatedAt) {
			c.Errorf("Match after two messages = %+v (last %+v), want the second as last", m, m.LastMessage)
		}
		if _, _, err := c.send(id, newUser(), "intruder", "", c.now); !errors.Is(err, chat.ErrNotAParticipant) {
			c.Errorf("Send by a third user = %v, want ErrNotAParticipant", err)
		}
		c.wantSeqs(c.history(id, chat.HistoryQuery{Limit: 10}), 1, 2)
	}},
	{"MatchesOrderAndCursor", func(c *chatT) {
		me := newUser()
		const n = 7
		ids := make([]string, n)
		for i := range ids {
			ids[i] = c.match(me, newUser())
		}
		stranger := newUser()
		c.mustSend(c.match(stranger, newUser()), stranger, "not mine", c.now.Add(time.Hour))
		// Activity: ids[3] newest, then ids[5]; the others share CreatedAt
		// and are ordered by descending id.
		c.mustSend(ids[5], me, "five", c.now.Add(time.Minute))
		c.mustSend(ids[3], me, "three", c.now.Add(2*time.Minute))
		all, err := c.s.Matches(c.ctx, me, nil, 100)
		if err != nil {
			c.Fatal(err)
		}
		if len(all) != n || all[0].ID != ids[3] || all[1].ID != ids[5] {
			c.Fatalf("Matches = %d entries, first %v; want %d, ids[3] then ids[5]", len(all), matchIDs(all), n)
		}
		for i := 2; i+1 < len(all); i++ {
			if !all[i].LastActivity.Equal(c.now) || all[i].ID < all[i+1].ID {
				c.Errorf("Matches[%d:] = %v, want descending ids at CreatedAt", i, matchIDs(all[i:]))
			}
		}
		if all[0].LastMessage == nil || all[0].LastMessage.Text != "three" || all[2].LastMessage != nil {
			c.Errorf("LastMessage of the list wrong: %+v, %+v", all[0].LastMessage, all[2].LastMessage)
		}
		// Pages of 3 by cursor give the same list.
		var paged []chat.Match
		var cur *chat.MatchCursor
		for range n {
			page, err := c.s.Matches(c.ctx, me, cur, 3)
			if err != nil {
				c.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			last := page[len(page)-1]
			cur = &chat.MatchCursor{LastActivity: last.LastActivity, ID: last.ID}
		}
		if fmt.Sprint(matchIDs(paged)) != fmt.Sprint(matchIDs(all)) {
			c.Errorf("paged = %v, want %v", matchIDs(paged), matchIDs(all))
		}
		if got, err := c.s.Matches(c.ctx, newUser(), nil, 10); err != nil || len(got) != 0 {
			c.Errorf("Matches of a user without any = %v, %v", got, err)
		}
	}},
	{"HistoryQueries", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		if got := c.history(id, chat.HistoryQuery{Limit: 5}); len(got) != 0 {
			c.Errorf("empty history = %v", seqs(got))
		}
		for i := range 10 {
			c.mustSend(id, []string{a, b}[i%2], fmt.Sprint("m", i+1), c.now.Add(time.Duration(i)*time.Second))
		}
		c.wantSeqs(c.history(id, chat.HistoryQuery{Limit: 3}), 8, 10)
		c.wantSeqs(c.history(id, chat.HistoryQuery{Limit: 30}), 1, 10)
		c.wantSeqs(c.history(id, chat.HistoryQuery{Before: 8, Limit: 3}), 5, 7)
		c.wantSeqs(c.history(id, chat.HistoryQuery{Before: 3, Limit: 5}), 1, 2)
		c.wantSeqs(c.history(id, chat.HistoryQuery{Before: 1, Limit: 5}), 1, 0)
		c.wantSeqs(c.history(id, chat.HistoryQuery{Before: 99, Limit: 2}), 9, 10)
		c.wantSeqs(c.history(id, chat.HistoryQuery{After: 7, Limit: 2}), 8, 9)
		c.wantSeqs(c.history(id, chat.HistoryQuery{After: 8, Limit: 5}), 9, 10)
		c.wantSeqs(c.history(id, chat.HistoryQuery{After: 10, Limit: 5}), 1, 0)
		ms := c.history(id, chat.HistoryQuery{After: 2, Limit: 1})
		if len(ms) != 1 || ms[0].Text != "m3" || ms[0].SenderID != a || !ms[0].CreatedAt.Equal(c.now.Add(2*time.Second)) {
			c.Errorf("message 3 = %+v", ms)
		}
	}},
	{"ConcurrentSendersAndStablePaging", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		const before = 30
		for i := range before {
			c.mustSend(id, a, fmt.Sprint("pre", i), c.now)
		}
		const senders, each = 50, 4
		var wg sync.WaitGroup
		errs := make(chan error, senders*each)
		for g := range senders {
			wg.Go(func() {
				for i := range each {
					if _, _, err := c.send(id, []string{a, b}[g%2], fmt.Sprint(g, "-", i), "", c.now.Add(time.Duration(g)*time.Millisecond)); err != nil {
						errs <- err
					}
				}
			})
		}
		// Page backwards from the newest page while they send: no message
		// skipped or repeated down to the first.
		page := c.history(id, chat.HistoryQuery{Limit: 7})
		top := page[len(page)-1].Seq
		var got []chat.Message
		for len(page) > 0 {
			got = append(page, got...)
			page = c.history(id, chat.HistoryQuery{Before: page[0].Seq, Limit: 7})
		}
		c.wantSeqs(got, 1, top)
		// And forwards from the first.
		fwd := c.history(id, chat.HistoryQuery{Before: 10, Limit: 9})
		for fwd[len(fwd)-1].Seq < top {
			page := c.history(id, chat.HistoryQuery{After: fwd[len(fwd)-1].Seq, Limit: 9})
			if len(page) == 0 {
				c.Fatalf("no messages after %d, want up to %d", fwd[len(fwd)-1].Seq, top)
			}
			fwd = append(fwd, page...)
		}
		c.wantSeqs(fwd, 1, fwd[len(fwd)-1].Seq)
		wg.Wait()
		close(errs)
		for err := range errs {
			c.Fatalf("concurrent Send: %v", err)
		}
		all := c.history(id, chat.HistoryQuery{Limit: 1000})
		c.wantSeqs(all, 1, before+senders*each)
		seen := make(map[string]bool)
		for i, m := range all {
			if seen[m.ID] {
				c.Fatalf("message %s twice", m.ID)
			}
			seen[m.ID] = true
			if i > 0 && m.CreatedAt.Before(all[i-1].CreatedAt) {
				c.Errorf("message %d at %v before its predecessor at %v", m.Seq, m.CreatedAt, all[i-1].CreatedAt)
			}
		}
		m, err := c.s.Match(c.ctx, id)
		if err != nil || m.LastMessage == nil || m.LastMessage.Seq != before+senders*each {
			c.Errorf("Match = %+v, %v; want the last Seq %d", m, err, before+senders*each)
		}
	}},
	{"IdempotentClientMessageID", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		const n = 20
		var wg sync.WaitGroup
		msgs := make([]chat.Message, n)
		created := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { msgs[i], created[i], errs[i] = c.send(id, a, fmt.Sprint("try ", i), "client-1", c.now) })
		}
		wg.Wait()
		news := 0
		for i := range n {
			if errs[i] != nil {
				c.Fatalf("Send %d: %v", i, errs[i])
			}
			if created[i] {
				news++
			}
			if msgs[i].ID != msgs[0].ID || msgs[i].Seq != 1 || msgs[i].ClientMessageID != "client-1" {
				c.Errorf("Send %d = %+v, want the one message %+v", i, msgs[i], msgs[0])
			}
		}
		if news != 1 {
			c.Errorf("%d sends created a message, want 1", news)
		}
		// The same client id from the other user, or in another match, is
		// another message.
		mb, createdB, err := c.send(id, b, "mine", "client-1", c.now)
		if err != nil || !createdB || mb.Seq != 2 {
			c.Errorf("the partner's client-1 = %+v, %v, %v; want a new message 2", mb, createdB, err)
		}
		other := c.match(a, newUser())
		if _, createdO, err := c.send(other, a, "elsewhere", "client-1", c.now); err != nil || !createdO {
			c.Errorf("client-1 in another match = %v, %v; want a new message", createdO, err)
		}
		c.wantSeqs(c.history(id, chat.HistoryQuery{Limit: 10}), 1, 2)
	}},
	{"Unmatch", func(c *chatT) {
		a, b := newUser(), newUser()
		id := c.match(a, b)
		keep := c.match(a, newUser())
		c.mustSend(id, a, "hello", c.now)
		if _, err := c.s.Unmatch(c.ctx, id, newUser(), c.now); !errors.Is(err, chat.ErrNotAParticipant) {
			c.Errorf("Unmatch by a third user = %v, want ErrNotAParticipant", err)
		}
		m, err := c.s.Unmatch(c.ctx, id, b, c.now.Add(time.Minute))
		if err != nil || m.ID != id || m.Users != sorted(a, b) {
			c.Fatalf("Unmatch = %+v, %v", m, err)
		}
		if _, err := c.s.Unmatch(c.ctx, id, a, c.now); !errors.Is(err, chat.ErrMatchNotFound) {
			c.Errorf("Unmatch again = %v, want ErrMatchNotFound", err)
		}
		if _, err := c.s.Match(c.ctx, id); !errors.Is(err, chat.ErrMatchNotFound) {
			c.Errorf("Match after Unmatch = %v, want ErrMatchNotFound", err)
		}
		if _, err := c.o.Match(c.ctx, id); !errors.Is(err, optin.ErrMatchNotFound) {
			c.Errorf("optin Match after Unmatch = %v, want ErrMatchNotFound", err)
		}
		if _, err := c.s.Messages(c.ctx, id, chat.HistoryQuery{Limit: 10}); !errors.Is(err, chat.ErrMatchNotFound) {
			c.Errorf("Messages after Unmatch = %v, want ErrMatchNotFound", err)
		}
		if _, _, err := c.send(id, a, "still there?", "", c.now); !errors.Is(err, chat.ErrMatchNotFound) {
			c.Errorf("Send after Unmatch = %v, want ErrMatchNotFound", err)
		}
		for _, u := range []string{a, b} {
			list, err := c.s.Matches(c.ctx, u, nil, 10)
			if err != nil {
				c.Fatal(err)
			}
			for _, x := range list {
				if x.ID == id {
					c.Errorf("Matches of %s still lists the removed match", u)
				}
			}
		}
		if list, _ := c.s.Matches(c.ctx, a, nil, 10); len(list) != 1 || list[0].ID != keep {
			c.Errorf("Matches of a = %v, want only %s", matchIDs(list), keep)
		}
		// A new mutual outcome makes a new, empty match.
		again := c.match(b, a)
		if again == id {
			c.Fatalf("the new mutual outcome took the removed match %s", id)
		}
		if again2 := c.match(a, b); again2 != again {
			c.Errorf("a further mutual outcome made %s, want the live match %s", again2, again)
		}
		if got := c.history(again, chat.HistoryQuery{Limit: 10}); len(got) != 0 {
			c.Errorf("history of the new match = %v, want empty", seqs(got))
		}
		if m := c.mustSend(again, a, "hello again", c.now); m.Seq != 1 {
			c.Errorf("first message of the new match has Seq %d", m.Seq)
		}
	}},
}

func matchIDs(ms []chat.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
