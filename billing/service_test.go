package billing_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/billing/stripe"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

const webhookSecret = "whsec_service_test"

// fakePayments creates fake Checkout Sessions and verifies webhooks for
// real, with package billing/stripe.
type fakePayments struct {
	*stripe.Payments

	mu       sync.Mutex
	requests []billing.CheckoutRequest
	fail     error
}

func (f *fakePayments) CreateCheckoutSession(_ context.Context, req billing.CheckoutRequest) (billing.CheckoutSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return billing.CheckoutSession{}, f.fail
	}
	f.requests = append(f.requests, req)
	id := fmt.Sprintf("cs_test_%d", len(f.requests))
	return billing.CheckoutSession{ID: id, URL: "https://checkout.stripe.com/c/pay/" + id}, nil
}

// logBuffer collects log output from concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// env is a Service on a memory store with fake payments.
type env struct {
	t        *testing.T
	svc      *billing.Service
	payments *fakePayments
	clock    *fakeclock.Clock
	log      *logBuffer
}

func newEnv(t *testing.T, edit func(*billing.Config)) *env {
	t.Helper()
	parser, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", WebhookSecret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t:        t,
		payments: &fakePayments{Payments: parser},
		clock:    fakeclock.New(time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)),
		log:      &logBuffer{},
	}
	packs := billing.DefaultPacks()
	packs[0].Amount, packs[0].Currency = 499, "USD"
	packs[1].PriceID = "price_plus"
	packs[2].PriceID = "price_pro"
	cfg := billing.Config{
		Store:       memory.NewWalletStore(e.clock),
		Payments:    e.payments,
		Packs:       packs,
		SuccessURL:  "https://app.example.com/tokens/success?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:   "https://app.example.com/tokens/cancel",
		SignupBonus: 2,
		Clock:       e.clock,
		Logger:      slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	e.svc, err = billing.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

var ctx = context.Background()

// newUser returns a random user id.
func newUser() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// delivery returns a signed webhook delivery of a Checkout Session event.
func delivery(eventID, typ, session, user, pack, paymentStatus string, at time.Time) ([]byte, string) {
	body := fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2019-02-19","type":%q,"created":%d,
		"data":{"object":{"id":%q,"object":"checkout.session","mode":"payment","client_reference_id":%q,
		"metadata":{"packId":%q,"tokens":"1000"},"payment_status":%q,"amount_total":1}}}`,
		eventID, typ, at.Unix(), session, user, pack, paymentStatus)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: webhookSecret, Timestamp: at})
	return signed.Payload, signed.Header
}

func (e *env) deliver(eventID, typ, session, user, pack, paymentStatus string) error {
	body, header := delivery(eventID, typ, session, user, pack, paymentStatus, time.Now())
	return e.svc.HandleWebhook(ctx, body, header)
}

func (e *env) balance(user string) int {
	e.t.Helper()
	b, err := e.svc.Balance(ctx, user)
	if err != nil {
		e.t.Fatalf("Balance: %v", err)
	}
	return b
}

func (e *env) wantBalance(user string, want int) {
	e.t.Helper()
	if got := e.balance(user); got != want {
		e.t.Fatalf("balance = %d, want %d", got, want)
	}
}

func (e *env) ledger(user string) []billing.Transaction {
	e.t.Helper()
	page, err := e.svc.Transactions(ctx, user, "", billing.MaxTransactionsLimit)
	if err != nil {
		e.t.Fatalf("Transactions: %v", err)
	}
	return page.Transactions
}

func wantErr(t *testing.T, what string, err, want error, kind rv.Kind) {
	t.Helper()
	if !errors.Is(err, want) || rv.KindOf(err) != kind {
		t.Errorf("%s: %v (kind %v), want %v of kind %v", what, err, rv.KindOf(err), want, kind)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	store := memory.NewWalletStore(nil)
	payments := &fakePayments{}
	ok := billing.Config{Store: store, Payments: payments, SuccessURL: "https://a.example/s", CancelURL: "https://a.example/c"}
	for name, edit := range map[string]func(c *billing.Config){
		"no store":                func(c *billing.Config) { c.Store = nil },
		"empty packs":             func(c *billing.Config) { c.Packs = []billing.Pack{} },
		"pack without id":         func(c *billing.Config) { c.Packs = []billing.Pack{{Tokens: 1}} },
		"pack id with spaces":     func(c *billing.Config) { c.Packs = []billing.Pack{{ID: " a", Tokens: 1}} },
		"pack twice":              func(c *billing.Config) { c.Packs = []billing.Pack{{ID: "a", Tokens: 1}, {ID: "a", Tokens: 2}} },
		"no tokens":               func(c *billing.Config) { c.Packs = []billing.Pack{{ID: "a"}} },
		"negative amount":         func(c *billing.Config) { c.Packs = []billing.Pack{{ID: "a", Tokens: 1, Amount: -1, Currency: "usd"}} },
		"amount without currency": func(c *billing.Config) { c.Packs = []billing.Pack{{ID: "a", Tokens: 1, Amount: 100}} },
		"currency without amount": func(c *billing.Config) { c.Packs = []billing.Pack{{ID: "a", Tokens: 1, Currency: "usd"}} },
		"bad currency": func(c *billing.Config) {
			c.Packs = []billing.Pack{{ID: "a", Tokens: 1, Amount: 1, Currency: "dollars"}}
		},
		"negative bonus":             func(c *billing.Config) { c.SignupBonus = -1 },
		"payments without success":   func(c *billing.Config) { c.SuccessURL = "" },
		"payments without cancel":    func(c *billing.Config) { c.CancelURL = "" },
		"relative success URL":       func(c *billing.Config) { c.SuccessURL = "/tokens/success" },
		"cancel URL of other scheme": func(c *billing.Config) { c.CancelURL = "javascript:alert(1)" },
	} {
		cfg := ok
		edit(&cfg)
		if _, err := billing.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := billing.New(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
	// Without payments, no URL is needed.
	if _, err := billing.New(billing.Config{Store: store}); err != nil {
		t.Errorf("store only: %v", err)
	}
}

func TestPacks(t *testing.T) {
	svc, err := billing.New(billing.Config{Store: memory.NewWalletStore(nil)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(svc.Packs())
	if want := `[{"id":"starter","tokens":5},{"id":"plus","tokens":15},{"id":"pro","tokens":30}]`; string(b) != want {
		t.Errorf("default packs = %s, want %s", b, want)
	}
	e := newEnv(t, nil)
	packs := e.svc.Packs()
	b, _ = json.Marshal(packs)
	if want := `[{"id":"starter","tokens":5,"amount":499,"currency":"usd"},{"id":"plus","tokens":15},{"id":"pro","tokens":30}]`; string(b) != want {
		t.Errorf("configured packs = %s, want %s (no price id, lower-case currency)", b, want)
	}
	packs[0].Tokens = 1000
	if e.svc.Packs()[0].Tokens != 5 {
		t.Error("Packs returned the Service's own slice")
	}
	for _, p := range e.svc.Packs() {
		if !p.Purchasable() {
			t.Errorf("pack %s is not purchasable", p.ID)
		}
	}
	if (billing.Pack{ID: "x", Tokens: 1}).Purchasable() {
		t.Error("a pack without a price is purchasable")
	}
}

func TestPurchase(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	cs, err := e.svc.Purchase(ctx, user, "plus")
	if err != nil {
		t.Fatalf("Purchase: %v", err)
	}
	if cs.ID != "cs_test_1" || !strings.HasSuffix(cs.URL, cs.ID) {
		t.Errorf("session = %+v", cs)
	}
	if b, _ := json.Marshal(cs); !strings.Contains(string(b), `"sessionId":"cs_test_1"`) {
		t.Errorf("session JSON = %s", b)
	}
	if _, err := e.svc.Purchase(ctx, user, "starter"); err != nil {
		t.Fatal(err)
	}
	reqs := e.payments.requests
	if len(reqs) != 2 {
		t.Fatalf("%d checkout requests, want 2", len(reqs))
	}
	r := reqs[0]
	if r.UserID != user || r.Pack.ID != "plus" || r.Pack.Tokens != 15 || r.Pack.PriceID != "price_plus" ||
		r.SuccessURL != "https://app.example.com/tokens/success?session_id={CHECKOUT_SESSION_ID}" ||
		r.CancelURL != "https://app.example.com/tokens/cancel" {
		t.Errorf("checkout request = %+v", r)
	}
	if reqs[1].Pack.Amount != 499 || reqs[1].Pack.Currency != "usd" {
		t.Errorf("starter request = %+v", reqs[1])
	}
	if r.IdempotencyKey == "" || r.IdempotencyKey == reqs[1].IdempotencyKey {
		t.Errorf("idempotency keys %q and %q, want two different keys", r.IdempotencyKey, reqs[1].IdempotencyKey)
	}
	// Creating a session credits nothing.
	e.wantBalance(user, 0)
}

func TestPurchaseErrors(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	_, err := e.svc.Purchase(ctx, user, "mega")
	wantErr(t, "unknown pack", err, billing.ErrUnknownPack, rv.KindInvalid)
	if err != nil && !strings.Contains(rv.AsError(err).Message, "starter, plus, pro") {
		t.Errorf("unknown pack message %q does not list the packs", rv.AsError(err).Message)
	}
	_, err = e.svc.Purchase(ctx, "not-a-uuid", "plus")
	wantErr(t, "bad user", err, billing.ErrInvalidUserID, rv.KindInvalid)

	e.payments.fail = errors.New("connection refused")
	_, err = e.svc.Purchase(ctx, user, "plus")
	wantErr(t, "provider down", err, billing.ErrPaymentProvider, rv.KindUnavailable)
	if err != nil && !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the cause is lost: %v", err)
	}
	if !strings.Contains(e.log.String(), "level=WARN") {
		t.Error("the provider failure was not logged")
	}
	e.payments.fail = billing.ErrPaymentProvider.Wrap(errors.New("card_declined"))
	_, err = e.svc.Purchase(ctx, user, "plus")
	wantErr(t, "provider error", err, billing.ErrPaymentProvider, rv.KindUnavailable)

	// Without payments, purchases and webhooks are 503 and the rest works.
	off := newEnv(t, func(c *billing.Config) { c.Payments = nil; c.SuccessURL = ""; c.CancelURL = "" })
	_, err = off.svc.Purchase(ctx, user, "plus")
	wantErr(t, "no payments", err, billing.ErrPaymentsUnavailable, rv.KindUnavailable)
	_, err = off.svc.Purchase(ctx, user, "mega")
	wantErr(t, "no payments, unknown pack", err, billing.ErrUnknownPack, rv.KindInvalid)
	body, header := delivery("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "plus", "paid", time.Now())
	wantErr(t, "no payments, webhook", off.svc.HandleWebhook(ctx, body, header), billing.ErrPaymentsUnavailable, rv.KindUnavailable)
	if off.svc.PaymentsEnabled() || !e.svc.PaymentsEnabled() {
		t.Error("PaymentsEnabled is wrong")
	}
	if err := off.svc.GrantSignupBonus(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := off.svc.Debit(ctx, user, "k"); err != nil {
		t.Fatal(err)
	}
	off.wantBalance(user, 1)

	// A pack without a price is listed but not sold.
	unpriced := newEnv(t, func(c *billing.Config) { c.Packs = billing.DefaultPacks() })
	_, err = unpriced.svc.Purchase(ctx, user, "pro")
	wantErr(t, "pack without a price", err, billing.ErrPackNotPurchasable, rv.KindUnavailable)
	if len(unpriced.payments.requests) != 0 {
		t.Error("a pack without a price reached the provider")
	}
}

func TestWebhookCreditsOnce(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	body, header := delivery("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "plus", "paid", time.Now())
	for range 3 {
		if err := e.svc.HandleWebhook(ctx, body, header); err != nil {
			t.Fatalf("HandleWebhook: %v", err)
		}
	}
	// The pack's tokens come from the configuration, not from the event's
	// metadata "tokens" nor its amount.
	e.wantBalance(user, 15)
	txs := e.ledger(user)
	if len(txs) != 1 {
		t.Fatalf("ledger = %+v, want one purchase", txs)
	}
	tx := txs[0]
	if tx.Kind != billing.KindPurchase || tx.Amount != 15 || tx.BalanceAfter != 15 || tx.Reference != "cs_1" ||
		tx.PackID != "plus" || !tx.CreatedAt.Equal(e.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("purchase = %+v", tx)
	}
	if !strings.Contains(e.log.String(), "purchase credited") {
		t.Errorf("the credit was not logged:\n%s", e.log)
	}
}

func TestWebhookConcurrentDeliveriesCreditOnce(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	body, header := delivery("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "pro", "paid", time.Now())
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := e.svc.HandleWebhook(ctx, body, header); err != nil {
				t.Errorf("HandleWebhook: %v", err)
			}
		})
	}
	wg.Wait()
	e.wantBalance(user, 30)
	if n := len(e.ledger(user)); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
}

func TestWebhookCompletedThenAsyncSucceededCreditsOnce(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	if err := e.deliver("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "plus", "paid"); err != nil {
		t.Fatal(err)
	}
	if err := e.deliver("evt_2", billing.EventCheckoutAsyncPaymentSucceeded, "cs_1", user, "plus", "paid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 15)
	// A second session is a second purchase.
	if err := e.deliver("evt_3", billing.EventCheckoutCompleted, "cs_2", user, "starter", "paid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 20)
}

func TestWebhookUnpaidSessionWaitsForAsyncPayment(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	if err := e.deliver("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "plus", "unpaid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 0)
	if err := e.deliver("evt_2", "checkout.session.async_payment_failed", "cs_2", user, "plus", "unpaid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 0)
	if err := e.deliver("evt_3", billing.EventCheckoutAsyncPaymentSucceeded, "cs_1", user, "plus", "paid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 15)
	if err := e.deliver("evt_3", billing.EventCheckoutAsyncPaymentSucceeded, "cs_1", user, "plus", "paid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 15)
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	body, header := delivery("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "starter", "paid", time.Now())
	_, stale := delivery("evt_1", billing.EventCheckoutCompleted, "cs_1", user, "starter", "paid", time.Now().Add(-10*time.Minute))
	wrong := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_someone_else"}).Header
	for name, c := range map[string]struct {
		body   []byte
		header string
	}{
		"tampered body":   {bytes.Replace(body, []byte(`"starter"`), []byte(`"pro"`), 1), header},
		"wrong secret":    {body, wrong},
		"stale timestamp": {body, stale},
		"missing header":  {body, ""},
		"garbage header":  {body, "nonsense"},
	} {
		err := e.svc.HandleWebhook(ctx, c.body, c.header)
		wantErr(t, name, err, billing.ErrInvalidSignature, rv.KindInvalid)
	}
	e.wantBalance(user, 0)
	// The genuine delivery still credits afterwards.
	if err := e.svc.HandleWebhook(ctx, body, header); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 5)
}

func TestWebhookIgnoresOtherEvents(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	for i, typ := range []string{"checkout.session.expired", "checkout.session.async_payment_failed", "payment_intent.succeeded", "charge.refunded"} {
		if err := e.deliver(fmt.Sprintf("evt_%d", i), typ, "cs_1", user, "plus", "paid"); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	other := []byte(`{"id":"evt_x","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: other, Secret: webhookSecret})
	if err := e.svc.HandleWebhook(ctx, signed.Payload, signed.Header); err != nil {
		t.Errorf("customer.created: %v", err)
	}
	e.wantBalance(user, 0)
	// An ignored event does not stop the session from being credited
	// later by a paying event.
	if err := e.deliver("evt_pay", billing.EventCheckoutCompleted, "cs_1", user, "plus", "paid"); err != nil {
		t.Fatal(err)
	}
	e.wantBalance(user, 15)
}

func TestWebhookAcknowledgesUnusableEvents(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	for name, c := range map[string]struct{ user, pack string }{
		"unknown pack":          {user, "mega"},
		"no pack":               {user, ""},
		"user is not a uuid":    {"someone", "plus"},
		"no client reference":   {"", "plus"},
		"pack id with a prefix": {user, " plus"},
	} {
		if err := e.deliver("evt_"+name, billing.EventCheckoutCompleted, "cs_"+name, c.user, c.pack, "paid"); err != nil {
			t.Errorf("%s: HandleWebhook = %v, want nil (acknowledged)", name, err)
		}
	}
	e.wantBalance(user, 0)
	if n := strings.Count(e.log.String(), "level=ERROR"); n != 5 {
		t.Errorf("%d errors logged, want 5:\n%s", n, e.log)
	}
	// A signed payload that is not an event is refused.
	junk := []byte("not json")
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: junk, Secret: webhookSecret})
	wantErr(t, "signed junk", e.svc.HandleWebhook(ctx, junk, signed.Header), billing.ErrInvalidWebhook, rv.KindInvalid)
}

// unsignedPayments accepts every webhook as the event it is given, to
// check what the Service does with events a provider could return.
type unsignedPayments struct{ ev billing.WebhookEvent }

func (unsignedPayments) CreateCheckoutSession(context.Context, billing.CheckoutRequest) (billing.CheckoutSession, error) {
	return billing.CheckoutSession{}, nil
}

func (u unsignedPayments) ParseWebhook([]byte, string) (billing.WebhookEvent, error) {
	return u.ev, nil
}

// failingPayments fails every call with a plain error.
type failingPayments struct{}

func (failingPayments) CreateCheckoutSession(context.Context, billing.CheckoutRequest) (billing.CheckoutSession, error) {
	return billing.CheckoutSession{}, nil // no id, no URL
}

func (failingPayments) ParseWebhook([]byte, string) (billing.WebhookEvent, error) {
	return billing.WebhookEvent{}, errors.New("boom")
}

func TestWebhookProviderEdgeCases(t *testing.T) {
	user := newUser()
	noID := newEnv(t, func(c *billing.Config) {
		c.Payments = unsignedPayments{billing.WebhookEvent{Type: billing.EventCheckoutCompleted}}
	})
	wantErr(t, "event without id", noID.svc.HandleWebhook(ctx, nil, ""), billing.ErrInvalidWebhook, rv.KindInvalid)
	noSession := newEnv(t, func(c *billing.Config) {
		c.Payments = unsignedPayments{billing.WebhookEvent{ID: "evt_1", Type: billing.EventCheckoutAsyncPaymentSucceeded, ClientReferenceID: user, PackID: "plus"}}
	})
	if err := noSession.svc.HandleWebhook(ctx, nil, ""); err != nil {
		t.Errorf("event without session: %v, want nil (acknowledged)", err)
	}
	noSession.wantBalance(user, 0)

	failing := newEnv(t, func(c *billing.Config) { c.Payments = failingPayments{} })
	// An unexpected parse failure is never a 500.
	wantErr(t, "parse failure", failing.svc.HandleWebhook(ctx, nil, ""), billing.ErrInvalidSignature, rv.KindInvalid)
	_, err := failing.svc.Purchase(ctx, user, "plus")
	wantErr(t, "session without URL", err, billing.ErrPaymentProvider, rv.KindUnavailable)
}

func TestSignupBonus(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := e.svc.GrantSignupBonus(ctx, user); err != nil {
				t.Errorf("GrantSignupBonus: %v", err)
			}
		})
	}
	wg.Wait()
	e.wantBalance(user, 2)
	if txs := e.ledger(user); len(txs) != 1 || txs[0].Kind != billing.KindBonus || txs[0].Amount != 2 {
		t.Errorf("ledger = %+v, want one bonus of 2", txs)
	}
	wantErr(t, "bad user", e.svc.GrantSignupBonus(ctx, "x"), billing.ErrInvalidUserID, rv.KindInvalid)

	none := newEnv(t, func(c *billing.Config) { c.SignupBonus = 0 })
	if err := none.svc.GrantSignupBonus(ctx, user); err != nil {
		t.Fatal(err)
	}
	none.wantBalance(user, 0)
	if txs := none.ledger(user); len(txs) != 0 {
		t.Errorf("ledger = %+v, want none", txs)
	}
}

func TestDebitAndRefund(t *testing.T) {
	e := newEnv(t, nil)
	user := newUser()
	_, err := e.svc.Debit(ctx, user, "queue:1")
	wantErr(t, "debit without a wallet", err, billing.ErrInsufficientTokens, rv.KindPaymentRequired)
	if rv.CodeOf(err) != "INSUFFICIENT_TOKENS" {
		t.Errorf("code = %s", rv.CodeOf(err))
	}
	if err := e.svc.GrantSignupBonus(ctx, user); err != nil {
		t.Fatal(err)
	}
	d1, err := e.svc.Debit(ctx, user, "queue:1")
	if err != nil || d1.Kind != billing.KindDebit || d1.Amount != -1 || d1.BalanceAfter != 1 || d1.Reference != "queue:1" || d1.UserID != user {
		t.Fatalf("Debit = %+v, %v", d1, err)
	}
	again, err := e.svc.Debit(ctx, user, "queue:1")
	if err != nil || again.ID != d1.ID {
		t.Fatalf("Debit with the same key = %+v, %v; want the first debit", again, err)
	}
	e.wantBalance(user, 1)
	if _, err := e.svc.Debit(ctx, user, "queue:2"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Debit(ctx, user, "queue:3")
	wantErr(t, "debit of an empty wallet", err, billing.ErrInsufficientTokens, rv.KindPaymentRequired)

	other := newUser()
	_, err = e.svc.Debit(ctx, other, "queue:1")
	wantErr(t, "another user's key", err, billing.ErrDebitKeyConflict, rv.KindConflict)
	for _, key := range []string{"", strings.Repeat("k", billing.MaxKeyLength+1), "a\x00b", "line\nbreak", "\xff"} {
		_, err = e.svc.Debit(ctx, user, key)
		wantErr(t, fmt.Sprintf("Debit(%q)", key), err, billing.ErrInvalidDebitKey, rv.KindInvalid)
		_, _, err = e.svc.Refund(ctx, key)
		wantErr(t, fmt.Sprintf("Refund(%q)", key), err, billing.ErrInvalidDebitKey, rv.KindInvalid)
	}
	_, err = e.svc.Debit(ctx, "nope", "queue:9")
	wantErr(t, "bad user", err, billing.ErrInvalidUserID, rv.KindInvalid)

	r, refunded, err := e.svc.Refund(ctx, "queue:1")
	if err != nil || !refunded || r.Kind != billing.KindRefund || r.Amount != 1 || r.Reference != d1.ID || r.BalanceAfter != 1 {
		t.Fatalf("Refund = %+v, %v, %v", r, refunded, err)
	}
	r2, refunded, err := e.svc.Refund(ctx, "queue:1")
	if err != nil || refunded || r2.ID != r.ID {
		t.Fatalf("Refund again = %+v, %v, %v; want the first refund, false", r2, refunded, err)
	}
	e.wantBalance(user, 1)
	_, _, err = e.svc.Refund(ctx, "queue:404")
	wantErr(t, "refund of an unknown debit", err, billing.ErrDebitNotFound, rv.KindNotFound)
}

func TestConcurrentDebits(t *testing.T) {
	e := newEnv(t, func(c *billing.Config) { c.SignupBonus = 10 })
	user := newUser()
	if err := e.svc.GrantSignupBonus(ctx, user); err != nil {
		t.Fatal(err)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
		out int
	)
	for i := range 1000 {
		wg.Go(func() {
			key := fmt.Sprintf("join:%d", i)
			_, err := e.svc.Debit(ctx, user, key)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, key)
			case errors.Is(err, billing.ErrInsufficientTokens):
				out++
			default:
				t.Errorf("Debit: %v", err)
			}
		})
	}
	wg.Wait()
	if len(won) != 10 || out != 990 {
		t.Fatalf("%d debits succeeded, %d refused; want 10 and 990", len(won), out)
	}
	e.wantBalance(user, 0)

	// Concurrent refunds of one debit: one refund.
	refunds := 0
	for range 50 {
		wg.Go(func() {
			_, ok, err := e.svc.Refund(ctx, won[0])
			if err != nil {
				t.Errorf("Refund: %v", err)
			}
			if ok {
				mu.Lock()
				refunds++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if refunds != 1 {
		t.Fatalf("%d concurrent refunds of one debit were made, want 1", refunds)
	}
	e.wantBalance(user, 1)
}

func TestTransactionsPages(t *testing.T) {
	e := newEnv(t, func(c *billing.Config) { c.SignupBonus = 200 })
	user := newUser()
	page, err := e.svc.Transactions(ctx, user, "", 0)
	if err != nil || page.Transactions == nil || len(page.Transactions) != 0 || page.NextCursor != "" {
		t.Fatalf("empty ledger = %+v, %v", page, err)
	}
	if b, _ := json.Marshal(page); string(b) != `{"transactions":[]}` {
		t.Errorf("empty page JSON = %s", b)
	}
	if err := e.svc.GrantSignupBonus(ctx, user); err != nil {
		t.Fatal(err)
	}
	for i := range 129 {
		e.clock.Advance(time.Second)
		if _, err := e.svc.Debit(ctx, user, fmt.Sprintf("d%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// 130 transactions: pages of the default 20.
	page, err = e.svc.Transactions(ctx, user, "", 0)
	if err != nil || len(page.Transactions) != billing.DefaultTransactionsLimit || page.NextCursor == "" {
		t.Fatalf("first page: %d transactions, cursor %q, %v", len(page.Transactions), page.NextCursor, err)
	}
	if first := page.Transactions[0]; first.Reference != "d128" || first.BalanceAfter != 71 {
		t.Errorf("newest = %+v, want the last debit", first)
	}
	// A limit above the maximum is lowered to it.
	page, err = e.svc.Transactions(ctx, user, "", 1000)
	if err != nil || len(page.Transactions) != billing.MaxTransactionsLimit {
		t.Fatalf("limit 1000: %d transactions, %v", len(page.Transactions), err)
	}
	// Walk every page of 7 while new debits arrive: each transaction is
	// seen once, newest first.
	var seen []billing.Transaction
	cursor := ""
	for {
		page, err := e.svc.Transactions(ctx, user, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page.Transactions...)
		if _, err := e.svc.Debit(ctx, user, "late"+cursor); err != nil {
			t.Fatal(err)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 130 {
		t.Fatalf("walked %d transactions, want 130", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Seq != seen[i-1].Seq-1 || seen[i].CreatedAt.After(seen[i-1].CreatedAt) {
			t.Fatalf("transactions %d and %d are out of order: %+v, %+v", i-1, i, seen[i-1], seen[i])
		}
	}
	if last := seen[len(seen)-1]; last.Kind != billing.KindBonus {
		t.Errorf("oldest = %+v, want the bonus", last)
	}
	b, _ := json.Marshal(seen[0])
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for _, k := range []string{"id", "kind", "amount", "balanceAfter", "reference", "createdAt"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("transaction JSON %s lacks %q", b, k)
		}
	}
	for _, k := range []string{"UserID", "userId", "Seq", "seq"} {
		if _, ok := fields[k]; ok {
			t.Errorf("transaction JSON %s shows %q", b, k)
		}
	}

	for _, c := range []string{"nonsense", "!!!", "dDE", cursor + "x", "dDEuMA", "dDEuLTU"} {
		_, err := e.svc.Transactions(ctx, user, c, 5)
		wantErr(t, fmt.Sprintf("cursor %q", c), err, billing.ErrInvalidCursor, rv.KindInvalid)
	}
	_, err = e.svc.Transactions(ctx, "x", "", 5)
	wantErr(t, "bad user", err, billing.ErrInvalidUserID, rv.KindInvalid)
	if _, err := e.svc.Balance(ctx, "x"); !errors.Is(err, billing.ErrInvalidUserID) {
		t.Errorf("Balance(x) = %v", err)
	}
	if b, err := e.svc.Balance(ctx, newUser()); err != nil || b != 0 {
		t.Errorf("Balance of a new user = %d, %v", b, err)
	}
}
