package chat_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

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

func (r *recorder) take() []rv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

// limiter is a fake Limiter: it refuses when refuse is set and records
// its calls.
type limiter struct {
	mu     sync.Mutex
	refuse bool
	calls  []string
}

func (l *limiter) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s %d %v", key, limit, window))
	if l.refuse {
		return false, 3 * time.Second, nil
	}
	return true, 0, nil
}

type fixture struct {
	t        *testing.T
	ctx      context.Context
	clock    *fakeclock.Clock
	optin    *memory.OptinStore
	svc      *chat.Service
	notes    *recorder
	limit    *limiter
	mu       sync.Mutex
	profiles map[string]chat.Partner // live accounts
	calls    int                     // of Profiles
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		t: t, ctx: context.Background(), clock: fakeclock.New(time.Date(2026, 2, 14, 20, 0, 0, 0, time.UTC)),
		optin: memory.NewOptinStore(), notes: &recorder{}, limit: &limiter{}, profiles: make(map[string]chat.Partner),
	}
	svc, err := chat.New(chat.Config{
		Store: memory.NewChatStore(f.optin),
		Profiles: func(_ context.Context, ids []string) (map[string]chat.Partner, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.calls++
			out := make(map[string]chat.Partner)
			for _, id := range ids {
				if p, ok := f.profiles[id]; ok {
					out[id] = p
				}
			}
			return out, nil
		},
		Notifier: f.notes,
		Limiter:  f.limit,
		Clock:    f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// user adds a live account.
func (f *fixture) user(name string) string {
	id := uuid.New()
	f.mu.Lock()
	f.profiles[id] = chat.Partner{ID: id, DisplayName: name, Bio: "bio of " + name, Age: 30, Interests: []string{"chess"}}
	f.mu.Unlock()
	return id
}

func (f *fixture) deleteAccount(id string) {
	f.mu.Lock()
	delete(f.profiles, id)
	f.mu.Unlock()
}

// match makes a match of a and b by a mutual outcome, now.
func (f *fixture) match(a, b string) string {
	f.t.Helper()
	sid := uuid.New()
	now := f.clock.Now()
	if _, _, err := f.optin.Open(f.ctx, optin.Window{SessionID: sid, Users: [2]string{a, b}, Deadline: now.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
	var w optin.Window
	for _, u := range []string{a, b} {
		var err error
		if w, _, err = f.optin.Choose(f.ctx, optin.ChoiceRequest{SessionID: sid, UserID: u, Choice: optin.ChoiceMatch, Now: now, MatchID: uuid.New()}); err != nil {
			f.t.Fatal(err)
		}
	}
	return w.MatchID
}

func (f *fixture) send(user, matchID, text string) chat.Message {
	f.t.Helper()
	m, err := f.svc.Send(f.ctx, user, matchID, text, "")
	if err != nil {
		f.t.Fatalf("Send(%q): %v", text, err)
	}
	return m
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func TestNewValidatesAndDefaults(t *testing.T) {
	profiles := func(context.Context, []string) (map[string]chat.Partner, error) { return nil, nil }
	store := memory.NewChatStore(memory.NewOptinStore())
	for _, cfg := range []chat.Config{
		{Profiles: profiles},
		{Store: store},
		{Store: store, Profiles: profiles, MessageRate: -1},
		{Store: store, Profiles: profiles, MessageBurst: -1},
	} {
		if _, err := chat.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	svc, err := chat.New(chat.Config{Store: store, Profiles: profiles})
	if err != nil {
		t.Fatal(err)
	}
	if c := svc.Config(); c.MessageRate != 5 || c.MessageBurst != 20 || c.Notifier == nil || c.Clock == nil || c.Logger == nil {
		t.Errorf("defaults = %+v", c)
	}
}

func TestMatchesListsPartnersNewestFirst(t *testing.T) {
	f := newFixture(t)
	me, ann, bob, cy := f.user("me"), f.user("Ann"), f.user("Bob"), f.user("Cy")
	mAnn := f.match(me, ann)
	f.clock.Advance(time.Minute)
	mBob := f.match(bob, me)
	f.clock.Advance(time.Minute)
	mCy := f.match(me, cy)
	f.clock.Advance(time.Minute)
	last := f.send(ann, mAnn, "  hi there\n")
	f.deleteAccount(bob)

	f.calls = 0
	page, err := f.svc.Matches(f.ctx, me, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.calls != 1 {
		t.Errorf("Profiles called %d times for one page, want 1", f.calls)
	}
	if len(page.Matches) != 3 || page.NextCursor != "" {
		t.Fatalf("page = %+v, want 3 matches and no cursor", page)
	}
	got := []string{page.Matches[0].ID, page.Matches[1].ID, page.Matches[2].ID}
	if want := []string{mAnn, mCy, mBob}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order = %v, want %v (newest activity first)", got, want)
	}
	a := page.Matches[0]
	if a.Partner.ID != ann || a.Partner.DisplayName != "Ann" || a.Partner.Deleted || a.LastMessage == nil || a.LastMessage.Text != "hi there" || a.LastMessage.ID != last.ID {
		t.Errorf("Ann's entry = %+v (last %+v)", a, a.LastMessage)
	}
	if page.Matches[1].LastMessage != nil {
		t.Errorf("Cy's entry has a last message: %+v", page.Matches[1].LastMessage)
	}
	b := page.Matches[2]
	if !b.Partner.Deleted || b.Partner.ID != bob || b.Partner.DisplayName != "" {
		t.Errorf("deleted partner = %+v", b.Partner)
	}
	js, _ := json.Marshal(b.Partner)
	if !strings.Contains(string(js), `"interests":[]`) || !strings.Contains(string(js), `"photoUrls":[]`) || !strings.Contains(string(js), `"deleted":true`) {
		t.Errorf("deleted partner JSON = %s, want deleted with [] slices", js)
	}

	// Pages of one.
	var ids []string
	cursor := ""
	for range 5 {
		p, err := f.svc.Matches(f.ctx, me, cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Matches {
			ids = append(ids, m.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(ids) != fmt.Sprint(got) {
		t.Errorf("paged = %v, want %v", ids, got)
	}

	// A user without matches gets an empty list, not null.
	p, err := f.svc.Matches(f.ctx, f.user("lonely"), "", 0)
	if err != nil || p.Matches == nil || len(p.Matches) != 0 {
		t.Errorf("Matches of a lonely user = %+v, %v", p, err)
	}
	if js, _ := json.Marshal(p); string(js) != `{"matches":[]}` {
		t.Errorf("empty page JSON = %s", js)
	}
}

func TestMatchesErrors(t *testing.T) {
	f := newFixture(t)
	me := f.user("me")
	for _, limit := range []int{-1, chat.MaxMatchLimit + 1} {
		_, err := f.svc.Matches(f.ctx, me, "", limit)
		wantErr(t, fmt.Sprint("Matches limit ", limit), err, chat.ErrInvalidLimit)
	}
	if _, err := f.svc.Matches(f.ctx, me, "", chat.MaxMatchLimit); err != nil {
		t.Errorf("Matches at MaxMatchLimit: %v", err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{"!!", "bm9wZQ", enc([]byte("m1.12.not-a-uuid")), enc([]byte("m1.x." + uuid.New())), enc([]byte("s1.3"))} {
		_, err := f.svc.Matches(f.ctx, me, c, 0)
		wantErr(t, "Matches cursor "+c, err, rv.ErrInvalidCursor)
		if rv.AsError(err).Kind != rv.KindInvalid {
			t.Errorf("cursor error kind = %v", rv.AsError(err).Kind)
		}
	}
}

func TestMessagesPaging(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("a"), f.user("b")
	id := f.match(a, b)
	empty, err := f.svc.Messages(f.ctx, a, id, "", "", 0)
	if err != nil || empty.Messages == nil || len(empty.Messages) != 0 || empty.NextCursor != "" {
		t.Fatalf("empty history = %+v, %v", empty, err)
	}
	for i := range 7 {
		f.clock.Advance(time.Second)
		f.send([]string{a, b}[i%2], id, fmt.Sprint("m", i+1))
	}
	texts := func(p chat.MessagePage) string {
		var s []string
		for _, m := range p.Messages {
			s = append(s, m.Text)
		}
		return strings.Join(s, ",")
	}
	newest, err := f.svc.Messages(f.ctx, b, id, "", "", 3)
	if err != nil || texts(newest) != "m5,m6,m7" || newest.NextCursor == "" {
		t.Fatalf("newest = %q %q, %v", texts(newest), newest.NextCursor, err)
	}
	older, err := f.svc.Messages(f.ctx, b, id, newest.NextCursor, "", 3)
	if err != nil || texts(older) != "m2,m3,m4" || older.NextCursor == "" {
		t.Fatalf("older = %q, %v", texts(older), err)
	}
	oldest, err := f.svc.Messages(f.ctx, b, id, older.NextCursor, "", 3)
	if err != nil || texts(oldest) != "m1" || oldest.NextCursor != "" {
		t.Fatalf("oldest = %q %q, %v; want m1 and no cursor", texts(oldest), oldest.NextCursor, err)
	}
	// after: forwards from m2 (the cursor of older points at m2).
	newer, err := f.svc.Messages(f.ctx, a, id, "", older.NextCursor, 3)
	if err != nil || texts(newer) != "m3,m4,m5" || newer.NextCursor == "" {
		t.Fatalf("newer = %q, %v", texts(newer), err)
	}
	rest, err := f.svc.Messages(f.ctx, a, id, "", newer.NextCursor, 3)
	if err != nil || texts(rest) != "m6,m7" || rest.NextCursor != "" {
		t.Fatalf("rest = %q %q, %v; want m6,m7 and no cursor", texts(rest), rest.NextCursor, err)
	}
	all, _ := f.svc.Messages(f.ctx, a, id, "", "", 0)
	if len(all.Messages) != 7 || all.NextCursor != "" {
		t.Errorf("default page = %d messages, cursor %q", len(all.Messages), all.NextCursor)
	}
	js, _ := json.Marshal(all.Messages[0])
	if strings.Contains(string(js), "seq") || strings.Contains(string(js), "senderDeleted") || !strings.Contains(string(js), `"matchId":"`+id+`"`) {
		t.Errorf("message JSON = %s", js)
	}

	// A deleted sender: b's last words, then b's account goes.
	f.clock.Advance(time.Second)
	f.send(b, id, "bye")
	f.deleteAccount(b)
	all, _ = f.svc.Messages(f.ctx, a, id, "", "", 0)
	for _, m := range all.Messages {
		if m.SenderDeleted != (m.SenderID == b) {
			t.Errorf("message from %s: SenderDeleted %v", m.SenderID, m.SenderDeleted)
		}
	}
	list, _ := f.svc.Matches(f.ctx, a, "", 0)
	if len(list.Matches) != 1 || !list.Matches[0].Partner.Deleted || !list.Matches[0].LastMessage.SenderDeleted {
		t.Errorf("Matches after the partner's deletion = %+v (last %+v)", list.Matches, list.Matches[0].LastMessage)
	}
}

func TestMessagesErrors(t *testing.T) {
	f := newFixture(t)
	a, b, third := f.user("a"), f.user("b"), f.user("c")
	id := f.match(a, b)
	f.send(a, id, "hello")
	cursor := base64.RawURLEncoding.EncodeToString([]byte("s1.2"))
	cases := []struct {
		name          string
		user, match   string
		before, after string
		limit         int
		want          error
	}{
		{"unknown match", a, uuid.New(), "", "", 0, chat.ErrMatchNotFound},
		{"not a uuid", a, "nope", "", "", 0, chat.ErrMatchNotFound},
		{"third user", third, id, "", "", 0, chat.ErrNotAParticipant},
		{"both cursors", a, id, cursor, cursor, 0, chat.ErrInvalidCursor},
		{"bad before", a, id, "zz!", "", 0, chat.ErrInvalidCursor},
		{"bad after", a, id, "", base64.RawURLEncoding.EncodeToString([]byte("s1.0")), 0, chat.ErrInvalidCursor},
		{"match cursor", a, id, base64.RawURLEncoding.EncodeToString([]byte("m1.1." + id)), "", 0, chat.ErrInvalidCursor},
		{"negative limit", a, id, "", "", -1, chat.ErrInvalidLimit},
		{"limit too big", a, id, "", "", chat.MaxMessageLimit + 1, chat.ErrInvalidLimit},
	}
	for _, c := range cases {
		_, err := f.svc.Messages(f.ctx, c.user, c.match, c.before, c.after, c.limit)
		wantErr(t, c.name, err, c.want)
	}
	if rv.AsError(chat.ErrNotAParticipant).Kind != rv.KindForbidden || rv.AsError(chat.ErrMatchNotFound).Kind != rv.KindNotFound {
		t.Error("kinds of the participant errors")
	}
}

func TestSendValidates(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("a"), f.user("b")
	id := f.match(a, b)
	bad := map[string]string{
		"empty":         "",
		"spaces":        " \n\t\u00a0\u3000",
		"too long":      strings.Repeat("é", chat.MaxTextLen+1),
		"invalid utf-8": "hi \xff",
		"control":       "hi\x00there",
		"carriage":      "hi\rthere",
		"escape":        "\x1b[31mred",
		"del":           "a\x7fb",
	}
	for name, text := range bad {
		_, err := f.svc.Send(f.ctx, a, id, text, "")
		wantErr(t, "Send "+name, err, chat.ErrInvalidMessage)
	}
	for name, cid := range map[string]string{"too long": strings.Repeat("x", chat.MaxClientMessageIDLen+1), "non-ascii": "é", "control": "a\nb"} {
		_, err := f.svc.Send(f.ctx, a, id, "hi", cid)
		wantErr(t, "Send with clientMessageId "+name, err, chat.ErrInvalidMessage)
	}
	m, err := f.svc.Send(f.ctx, a, id, " \t"+strings.Repeat("é", chat.MaxTextLen)+"\n ", strings.Repeat("x", chat.MaxClientMessageIDLen))
	if err != nil || m.Text != strings.Repeat("é", chat.MaxTextLen) {
		t.Errorf("Send at the limits = %v", err)
	}
	m, err = f.svc.Send(f.ctx, a, id, "line one\n\tline two", "")
	if err != nil || m.Text != "line one\n\tline two" || !m.CreatedAt.Equal(f.clock.Now()) || m.SenderID != a || m.MatchID != id || !uuid.Valid(m.ID) {
		t.Errorf("Send = %+v, %v", m, err)
	}
	if len(f.limit.calls) == 0 || f.limit.calls[0] != "chat:"+a+" 20 4s" {
		t.Errorf("limiter calls = %v, want chat:<user> 20 4s", f.limit.calls)
	}
}

func TestSendNotifiesBothOnce(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("a"), f.user("b")
	id := f.match(a, b)
	m, err := f.svc.Send(f.ctx, a, id, "hello", "c-1")
	if err != nil {
		t.Fatal(err)
	}
	evs := f.notes.take()
	if len(evs) != 2 {
		t.Fatalf("events = %+v, want 2", evs)
	}
	targets := map[string]bool{}
	for _, ev := range evs {
		targets[ev.Target] = true
		var got chat.Message
		if ev.Namespace != chat.Namespace || ev.Name != chat.EventMessage || json.Unmarshal(ev.Data, &got) != nil || got.ID != m.ID || got.Text != "hello" || got.ClientMessageID != "c-1" {
			t.Errorf("event = %+v (%s)", ev, ev.Data)
		}
	}
	if !targets[rv.UserTarget(a)] || !targets[rv.UserTarget(b)] {
		t.Errorf("targets = %v, want both users", targets)
	}
	again, err := f.svc.Send(f.ctx, a, id, "hello (retry)", "c-1")
	if err != nil || again.ID != m.ID || again.Text != "hello" {
		t.Errorf("retry = %+v, %v; want the first message", again, err)
	}
	if evs := f.notes.take(); len(evs) != 0 {
		t.Errorf("a retry notified again: %+v", evs)
	}
}

func TestSendRateLimited(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("a"), f.user("b")
	id := f.match(a, b)
	f.limit.refuse = true
	_, err := f.svc.Send(f.ctx, a, id, "spam", "")
	wantErr(t, "Send over the rate", err, rv.ErrRateLimited)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 3*time.Second {
		t.Errorf("rate limit error %v has no RetryAfter of 3s", err)
	}
	if e := rv.AsError(err); e == nil || e.Kind != rv.KindRateLimited || rv.CodeOf(err) != "RATE_LIMITED" {
		t.Errorf("rate limit error = %+v", e)
	}
	if evs := f.notes.take(); len(evs) != 0 {
		t.Errorf("a refused send notified: %+v", evs)
	}
	if page, _ := f.svc.Messages(f.ctx, a, id, "", "", 0); len(page.Messages) != 0 {
		t.Errorf("a refused send was stored")
	}
}

func TestUnmatch(t *testing.T) {
	f := newFixture(t)
	a, b, third := f.user("a"), f.user("b"), f.user("c")
	id := f.match(a, b)
	f.send(a, id, "hello")
	f.notes.take()
	wantErr(t, "Unmatch by a third user", f.svc.Unmatch(f.ctx, third, id), chat.ErrNotAParticipant)
	if err := f.svc.Unmatch(f.ctx, b, id); err != nil {
		t.Fatal(err)
	}
	evs := f.notes.take()
	if len(evs) != 2 {
		t.Fatalf("events = %+v, want 2", evs)
	}
	for _, ev := range evs {
		if ev.Namespace != chat.Namespace || ev.Name != chat.EventMatchRemoved || string(ev.Data) != `{"matchId":"`+id+`"}` {
			t.Errorf("event = %+v (%s)", ev, ev.Data)
		}
	}
	if evs[0].Target == evs[1].Target || (evs[0].Target != rv.UserTarget(a) && evs[1].Target != rv.UserTarget(a)) {
		t.Errorf("targets %s, %s; want both users", evs[0].Target, evs[1].Target)
	}
	wantErr(t, "Unmatch again", f.svc.Unmatch(f.ctx, a, id), chat.ErrMatchNotFound)
	_, err := f.svc.Messages(f.ctx, a, id, "", "", 0)
	wantErr(t, "Messages after Unmatch", err, chat.ErrMatchNotFound)
	_, err = f.svc.Send(f.ctx, a, id, "still?", "")
	wantErr(t, "Send after Unmatch", err, chat.ErrMatchNotFound)
	if p, _ := f.svc.Matches(f.ctx, a, "", 0); len(p.Matches) != 0 {
		t.Errorf("Matches after Unmatch = %+v", p)
	}
	again := f.match(a, b)
	if again == id {
		t.Fatal("a new mutual outcome took the removed match")
	}
	if p, _ := f.svc.Messages(f.ctx, a, again, "", "", 0); len(p.Messages) != 0 {
		t.Errorf("history of the new match = %+v", p)
	}
	if evs := f.notes.take(); len(evs) != 0 {
		t.Errorf("unexpected events: %+v", evs)
	}
}

// TestThirdUser checks that a user outside a match can neither read, nor
// write, nor remove it, nor see it listed.
func TestThirdUser(t *testing.T) {
	f := newFixture(t)
	a, b, eve := f.user("a"), f.user("b"), f.user("eve")
	id := f.match(a, b)
	f.send(a, id, "private")
	f.notes.take()
	_, err := f.svc.Messages(f.ctx, eve, id, "", "", 0)
	wantErr(t, "Messages", err, chat.ErrNotAParticipant)
	_, err = f.svc.Send(f.ctx, eve, id, "hi", "")
	wantErr(t, "Send", err, chat.ErrNotAParticipant)
	wantErr(t, "Unmatch", f.svc.Unmatch(f.ctx, eve, id), chat.ErrNotAParticipant)
	if p, err := f.svc.Matches(f.ctx, eve, "", 0); err != nil || len(p.Matches) != 0 {
		t.Errorf("Matches of eve = %+v, %v", p, err)
	}
	if evs := f.notes.take(); len(evs) != 0 {
		t.Errorf("events from eve's calls: %+v", evs)
	}
	if page, _ := f.svc.Messages(f.ctx, a, id, "", "", 0); len(page.Messages) != 1 {
		t.Errorf("eve changed the history: %+v", page)
	}
}

func TestConcurrentSendsAreOrdered(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("a"), f.user("b")
	id := f.match(a, b)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.svc.Send(f.ctx, []string{a, b}[i%2], id, fmt.Sprint("m", i), fmt.Sprint("c", i))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.svc.Messages(f.ctx, a, id, "", "", chat.MaxMessageLimit)
	if err != nil || len(page.Messages) != n {
		t.Fatalf("history = %d messages, %v", len(page.Messages), err)
	}
	if evs := f.notes.take(); len(evs) != 2*n {
		t.Errorf("%d events, want %d", len(evs), 2*n)
	}
}
