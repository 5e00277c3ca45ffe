package transport_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/rendezvous-go/rendezvous/billing"
	billingstripe "github.com/rendezvous-go/rendezvous/billing/stripe"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

const webhookSecret = "whsec_test_secret"

// stripeStack is a server whose payments go to stripe-mock.
func stripeStack(t *testing.T, o options) *stack {
	t.Helper()
	p, err := billingstripe.New(billingstripe.Config{SecretKey: "sk_test_123", WebhookSecret: webhookSecret, APIBase: testenv.StripeMockURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	o.payments = p
	return newStack(t, o)
}

// delivery is a signed checkout.session webhook as Stripe sends it.
func delivery(eventID, typ, session, user, pack, status string, at time.Time) (body []byte, header string) {
	raw := fmt.Sprintf(`{"id":%q,"object":"event","type":%q,"api_version":"2023-10-16","created":%d,
		"data":{"object":{"id":%q,"object":"checkout.session","mode":"payment","client_reference_id":%q,
		"metadata":{"packId":%q},"payment_status":%q}}}`, eventID, typ, at.Unix(), session, user, pack, status)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(raw), Secret: webhookSecret, Timestamp: at})
	return signed.Payload, signed.Header
}

func postWebhook(t *testing.T, s *stack, body []byte, header string) response {
	t.Helper()
	return do(t, "POST", s.URL+"/webhooks/stripe", string(body), "Stripe-Signature", header)
}

func (s *stack) balanceOf(t *testing.T, a account) int {
	t.Helper()
	r := do(t, "GET", s.URL+"/tokens/balance", "", bearerH(a.Access)...)
	var b struct{ Balance int }
	r.json(t, &b)
	if r.Status != 200 {
		t.Fatalf("balance: %d %s", r.Status, r.Body)
	}
	return b.Balance
}

func TestWalletWithoutStripe(t *testing.T) {
	s := newStack(t, options{signupBonus: 3})
	a := s.signup(t)
	if b := s.balanceOf(t, a); b != 3 {
		t.Fatalf("balance after sign-up bonus: %d", b)
	}
	r := do(t, "GET", s.URL+"/tokens/packs", "")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"id":"starter","tokens":5`) || strings.Contains(string(r.Body), "price") {
		t.Fatalf("packs: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", s.URL+"/tokens/balance", ""), 401, "TOKEN_MISSING")
	wantError(t, do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"starter"}`, bearerH(a.Access)...), 503, "PAYMENTS_UNAVAILABLE")
	body, header := delivery("evt_1", "checkout.session.completed", "cs_1", a.ID, "starter", "paid", time.Now())
	wantError(t, postWebhook(t, s, body, header), 503, "PAYMENTS_UNAVAILABLE")
	// The rest of the product keeps working.
	if r := do(t, "GET", s.URL+"/users/me", "", bearerH(a.Access)...); r.Status != 200 {
		t.Fatalf("me: %d", r.Status)
	}
}

func TestPurchaseAndWebhook(t *testing.T) {
	s := stripeStack(t, options{})
	a := s.signup(t)

	r := do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"starter"}`, bearerH(a.Access)...)
	var cs struct{ SessionID, URL string }
	r.json(t, &cs)
	if r.Status != 201 || cs.SessionID == "" || cs.URL == "" {
		t.Fatalf("purchase: %d %s", r.Status, r.Body)
	}
	if r := do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"plus"}`, bearerH(a.Access)...); r.Status != 201 {
		t.Fatalf("purchase with a price id: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"mega"}`, bearerH(a.Access)...), 400, "UNKNOWN_PACK")
	wantError(t, do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"starter","tokens":1000}`, bearerH(a.Access)...), 400, "INVALID_BODY")
	wantError(t, do(t, "POST", s.URL+"/tokens/purchase", `{"packId":"starter"}`), 401, "TOKEN_MISSING")

	// Bad signatures are 400 and credit nothing.
	body, header := delivery("evt_1", "checkout.session.completed", "cs_1", a.ID, "pro", "paid", time.Now())
	_, stale := delivery("evt_1", "checkout.session.completed", "cs_1", a.ID, "pro", "paid", time.Now().Add(-time.Hour))
	wrong := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_other"}).Header
	for name, tc := range map[string]struct {
		body   []byte
		header string
	}{
		"tampered":     {[]byte(strings.Replace(string(body), `"pro"`, `"plus"`, 1)), header},
		"wrong secret": {body, wrong}, "stale": {body, stale}, "missing": {body, ""},
	} {
		if r := postWebhook(t, s, tc.body, tc.header); r.Status != 400 || r.errorBody(t).Code != "INVALID_SIGNATURE" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if b := s.balanceOf(t, a); b != 0 {
		t.Fatalf("credited by a bad signature: %d", b)
	}

	// The same event delivered 50 times at once credits once.
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.URL+"/webhooks/stripe", strings.NewReader(string(body)))
			req.Header.Set("Stripe-Signature", header)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- -1
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("delivery answered %d", c)
		}
	}
	if b := s.balanceOf(t, a); b != 30 {
		t.Fatalf("balance %d after 50 deliveries of one pro event, want 30", b)
	}
	// A second event for the same session (async success) credits nothing more.
	body2, header2 := delivery("evt_2", "checkout.session.async_payment_succeeded", "cs_1", a.ID, "pro", "paid", time.Now())
	if r := postWebhook(t, s, body2, header2); r.Status != 200 {
		t.Fatalf("async success: %d %s", r.Status, r.Body)
	}
	// An unpaid completion waits for the async success.
	body3, header3 := delivery("evt_3", "checkout.session.completed", "cs_2", a.ID, "starter", "unpaid", time.Now())
	postWebhook(t, s, body3, header3)
	if b := s.balanceOf(t, a); b != 30 {
		t.Fatalf("balance %d, want 30", b)
	}
	body4, header4 := delivery("evt_4", "checkout.session.async_payment_succeeded", "cs_2", a.ID, "starter", "paid", time.Now())
	postWebhook(t, s, body4, header4)
	if b := s.balanceOf(t, a); b != 35 {
		t.Fatalf("balance %d, want 35", b)
	}

	// The ledger, newest first, paginated.
	r = do(t, "GET", s.URL+"/tokens/transactions?limit=1", "", bearerH(a.Access)...)
	var page billing.Page
	r.json(t, &page)
	if r.Status != 200 || len(page.Transactions) != 1 || page.Transactions[0].Amount != 5 || page.Transactions[0].BalanceAfter != 35 || page.NextCursor == "" {
		t.Fatalf("page 1: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", s.URL+"/tokens/transactions?limit=1&cursor="+page.NextCursor, "", bearerH(a.Access)...)
	page = billing.Page{}
	r.json(t, &page)
	if r.Status != 200 || len(page.Transactions) != 1 || page.Transactions[0].Amount != 30 || page.NextCursor != "" {
		t.Fatalf("page 2: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", s.URL+"/tokens/transactions?limit=0", "", bearerH(a.Access)...), 400, "INVALID_QUERY")
	wantError(t, do(t, "GET", s.URL+"/tokens/transactions?cursor=not-a-cursor", "", bearerH(a.Access)...), 400, "INVALID_CURSOR")
}

func TestWebhookIsNotThrottled(t *testing.T) {
	s := stripeStack(t, options{throttle: 2})
	a := s.signup(t)
	for i := 0; i < 5; i++ {
		body, header := delivery(fmt.Sprintf("evt_%d", i), "checkout.session.completed", fmt.Sprintf("cs_%d", i), a.ID, "starter", "paid", time.Now())
		if r := postWebhook(t, s, body, header); r.Status != 200 {
			t.Fatalf("delivery %d: %d %s", i, r.Status, r.Body)
		}
	}
}
