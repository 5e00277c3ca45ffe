package stripe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/billing/stripe"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

const (
	testKey    = "sk_test_123"
	testSecret = "whsec_test_secret"
	testUser   = "8a0f7a4e-2f7c-4d6b-9a51-0c3f1d2e4b5a"
)

// exchange is one request seen by recorder, with its response.
type exchange struct {
	method, path string
	header       http.Header
	form         url.Values
	status       int
	response     map[string]any
}

// recorder is an http.RoundTripper that keeps every request and response
// it forwards.
type recorder struct {
	mu   sync.Mutex
	seen []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	var decoded map[string]any
	_ = json.Unmarshal(resBody, &decoded)
	r.mu.Lock()
	r.seen = append(r.seen, exchange{req.Method, req.URL.Path, req.Header.Clone(), form, res.StatusCode, decoded})
	r.mu.Unlock()
	return res, nil
}

func (r *recorder) last(t *testing.T) exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("no request was made")
	}
	return r.seen[len(r.seen)-1]
}

// mockPayments returns Payments on stripe-mock, and the recorder of its
// requests.
func mockPayments(t *testing.T, key string) (*stripe.Payments, *recorder) {
	t.Helper()
	rec := &recorder{}
	p, err := stripe.New(stripe.Config{
		SecretKey:         key,
		WebhookSecret:     testSecret,
		APIBase:           testenv.StripeMockURL(t),
		HTTPClient:        &http.Client{Transport: rec, Timeout: 10 * time.Second},
		MaxNetworkRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

func checkoutRequest(pack billing.Pack) billing.CheckoutRequest {
	return billing.CheckoutRequest{
		UserID:         testUser,
		Pack:           pack,
		SuccessURL:     "https://app.example.com/tokens/success?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:      "https://app.example.com/tokens/cancel",
		IdempotencyKey: "checkout-key-1",
	}
}

func wantForm(t *testing.T, form url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("request parameter %s = %q, want %q", k, got, v)
		}
	}
}

func TestCreateCheckoutSessionWithPrice(t *testing.T) {
	p, rec := mockPayments(t, testKey)
	req := checkoutRequest(billing.Pack{ID: "plus", Tokens: 15, PriceID: "price_plus"})
	cs, err := p.CreateCheckoutSession(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateCheckoutSession: %v", err)
	}
	if !strings.HasPrefix(cs.ID, "cs_") || cs.URL == "" {
		t.Errorf("session = %+v, want an id cs_… and a URL", cs)
	}
	ex := rec.last(t)
	if ex.method != http.MethodPost || ex.path != "/v1/checkout/sessions" || ex.status != http.StatusOK {
		t.Fatalf("request %s %s answered %d, want POST /v1/checkout/sessions answered 200", ex.method, ex.path, ex.status)
	}
	if got := ex.header.Get("Idempotency-Key"); got != req.IdempotencyKey {
		t.Errorf("Idempotency-Key = %q, want %q", got, req.IdempotencyKey)
	}
	if got := ex.header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	wantForm(t, ex.form, map[string]string{
		"mode":                                  "payment",
		"client_reference_id":                   testUser,
		"success_url":                           req.SuccessURL,
		"cancel_url":                            req.CancelURL,
		"line_items[0][price]":                  "price_plus",
		"line_items[0][quantity]":               "1",
		"metadata[packId]":                      "plus",
		"metadata[userId]":                      testUser,
		"payment_intent_data[metadata][packId]": "plus",
		"payment_intent_data[metadata][userId]": testUser,
	})
	if _, ok := ex.form["line_items[0][price_data][unit_amount]"]; ok {
		t.Error("price_data sent along with a price id")
	}
	// stripe-mock echoes these parameters into the session it returns.
	for k, want := range map[string]string{
		"id": cs.ID, "object": "checkout.session", "mode": "payment", "client_reference_id": testUser,
		"success_url": req.SuccessURL, "cancel_url": req.CancelURL,
	} {
		if got, _ := ex.response[k].(string); got != want {
			t.Errorf("response %s = %q, want %q", k, got, want)
		}
	}
}

func TestCreateCheckoutSessionWithPriceData(t *testing.T) {
	p, rec := mockPayments(t, testKey)
	cs, err := p.CreateCheckoutSession(context.Background(),
		checkoutRequest(billing.Pack{ID: "starter", Tokens: 5, Amount: 499, Currency: "eur"}))
	if err != nil {
		t.Fatalf("CreateCheckoutSession: %v", err)
	}
	if cs.ID == "" || cs.URL == "" {
		t.Errorf("session = %+v", cs)
	}
	ex := rec.last(t)
	wantForm(t, ex.form, map[string]string{
		"line_items[0][price_data][currency]":           "eur",
		"line_items[0][price_data][unit_amount]":        "499",
		"line_items[0][price_data][product_data][name]": "5 tokens",
		"line_items[0][quantity]":                       "1",
		"metadata[packId]":                              "starter",
		"mode":                                          "payment",
	})
	if _, ok := ex.form["line_items[0][price]"]; ok {
		t.Error("a price id sent for a pack without one")
	}
}

func TestCreateCheckoutSessionProviderFailures(t *testing.T) {
	ctx := context.Background()
	req := checkoutRequest(billing.Pack{ID: "plus", Tokens: 15, PriceID: "price_plus"})

	// stripe-mock refuses a key that is not a test secret key.
	p, _ := mockPayments(t, "not_a_key")
	_, err := p.CreateCheckoutSession(ctx, req)
	if !errors.Is(err, billing.ErrPaymentProvider) || rv.KindOf(err) != rv.KindUnavailable {
		t.Errorf("with a refused key: %v, want ErrPaymentProvider", err)
	}
	if err != nil && !strings.Contains(err.Error(), "authenticate") {
		t.Errorf("the error %q does not carry Stripe's message", err)
	}

	// Nobody listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	down, err := stripe.New(stripe.Config{SecretKey: testKey, WebhookSecret: testSecret, APIBase: "http://" + addr, MaxNetworkRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := down.CreateCheckoutSession(ctx, req); !errors.Is(err, billing.ErrPaymentProvider) {
		t.Errorf("with Stripe down: %v, want ErrPaymentProvider", err)
	}

	// A canceled context is reported as such.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := down.CreateCheckoutSession(canceled, req); !errors.Is(err, context.Canceled) {
		t.Errorf("with a canceled context: %v, want context.Canceled", err)
	}

	// A pack without a price never reaches Stripe.
	if _, err := down.CreateCheckoutSession(ctx, checkoutRequest(billing.Pack{ID: "x", Tokens: 1})); !errors.Is(err, billing.ErrPackNotPurchasable) {
		t.Errorf("pack without a price: %v, want ErrPackNotPurchasable", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]stripe.Config{
		"no secret key":      {WebhookSecret: testSecret},
		"no webhook secret":  {SecretKey: testKey},
		"relative API base":  {SecretKey: testKey, WebhookSecret: testSecret, APIBase: "localhost:12111"},
		"other scheme":       {SecretKey: testKey, WebhookSecret: testSecret, APIBase: "ftp://localhost"},
		"negative tolerance": {SecretKey: testKey, WebhookSecret: testSecret, Tolerance: -time.Second},
	} {
		if _, err := stripe.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// event returns the JSON of a Stripe event of type typ about a Checkout
// Session.
func event(id, typ, session, user, pack, paymentStatus string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2020-08-27","created":1700000000,"livemode":false,
		"type":%q,"data":{"object":{"id":%q,"object":"checkout.session","mode":"payment","client_reference_id":%q,
		"metadata":{"packId":%q,"tokens":"1000"},"payment_status":%q,"amount_total":999}}}`,
		id, typ, session, user, pack, paymentStatus)
}

func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func offlinePayments(t *testing.T) *stripe.Payments {
	t.Helper()
	p, err := stripe.New(stripe.Config{SecretKey: testKey, WebhookSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseWebhook(t *testing.T) {
	p := offlinePayments(t)
	body := event("evt_1", billing.EventCheckoutCompleted, "cs_test_1", testUser, "plus", "paid")
	ev, err := p.ParseWebhook(body, sign(body, testSecret, time.Now()))
	if err != nil {
		t.Fatalf("ParseWebhook: %v", err)
	}
	want := billing.WebhookEvent{ID: "evt_1", Type: billing.EventCheckoutCompleted, CheckoutSessionID: "cs_test_1",
		ClientReferenceID: testUser, PackID: "plus", PaymentStatus: "paid"}
	if ev != want {
		t.Errorf("event = %+v, want %+v", ev, want)
	}

	// Another event type: its id and type only.
	other := []byte(`{"id":"evt_2","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	ev, err = p.ParseWebhook(other, sign(other, testSecret, time.Now()))
	if err != nil || ev != (billing.WebhookEvent{ID: "evt_2", Type: "customer.created"}) {
		t.Errorf("customer.created = %+v, %v", ev, err)
	}

	// Several v1 signatures, as during a rotation of the secret: one
	// matching is enough.
	now := time.Now()
	header := sign(body, "whsec_old", now) + ",v1=" + strings.SplitN(sign(body, testSecret, now), "v1=", 2)[1]
	if _, err := p.ParseWebhook(body, header); err != nil {
		t.Errorf("with two signatures, one valid: %v", err)
	}
}

func TestParseWebhookRefusesBadSignatures(t *testing.T) {
	p := offlinePayments(t)
	body := event("evt_1", billing.EventCheckoutCompleted, "cs_test_1", testUser, "plus", "paid")
	good := sign(body, testSecret, time.Now())
	tampered := bytes.Replace(body, []byte(`"plus"`), []byte(`"pro"`), 1)
	for name, c := range map[string]struct {
		body    []byte
		header  string
		message string
	}{
		"tampered body":     {tampered, good, "does not match"},
		"wrong secret":      {body, sign(body, "whsec_other", time.Now()), "does not match"},
		"stale timestamp":   {body, sign(body, testSecret, time.Now().Add(-stripe.DefaultTolerance-time.Minute)), "too old"},
		"missing header":    {body, "", "missing"},
		"malformed header":  {body, "t=abc,v1=00", "malformed"},
		"no v1 signature":   {body, fmt.Sprintf("t=%d,v0=abcd", time.Now().Unix()), "does not match"},
		"signature not hex": {body, fmt.Sprintf("t=%d,v1=zz", time.Now().Unix()), "does not match"},
		"no timestamp":      {body, "v1=" + strings.SplitN(good, "v1=", 2)[1], "too old"},
		"empty body":        {nil, good, "does not match"},
	} {
		ev, err := p.ParseWebhook(c.body, c.header)
		if !errors.Is(err, billing.ErrInvalidSignature) || rv.KindOf(err) != rv.KindInvalid {
			t.Errorf("%s: ParseWebhook = %+v, %v; want ErrInvalidSignature", name, ev, err)
			continue
		}
		if msg := rv.AsError(err).Message; !strings.Contains(msg, c.message) {
			t.Errorf("%s: message %q does not say %q", name, msg, c.message)
		}
	}
}

func TestParseWebhookTolerance(t *testing.T) {
	p, err := stripe.New(stripe.Config{SecretKey: testKey, WebhookSecret: testSecret, Tolerance: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body := event("evt_1", billing.EventCheckoutCompleted, "cs_test_1", testUser, "plus", "paid")
	if _, err := p.ParseWebhook(body, sign(body, testSecret, time.Now().Add(-30*time.Minute))); err != nil {
		t.Errorf("30 minutes old with a tolerance of an hour: %v", err)
	}
	if _, err := p.ParseWebhook(body, sign(body, testSecret, time.Now().Add(-2*time.Hour))); !errors.Is(err, billing.ErrInvalidSignature) {
		t.Errorf("2 hours old with a tolerance of an hour: %v, want ErrInvalidSignature", err)
	}
}

func TestParseWebhookRefusesSignedNonsense(t *testing.T) {
	p := offlinePayments(t)
	for name, body := range map[string]string{
		"not JSON":            `hello`,
		"no id":               `{"object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_1","object":"checkout.session"}}}`,
		"no type":             `{"id":"evt_1","object":"event","data":{"object":{}}}`,
		"no data":             `{"id":"evt_1","object":"event","type":"checkout.session.completed"}`,
		"not a session":       `{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`,
		"session without id":  `{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"object":"checkout.session"}}}`,
		"metadata not string": `{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":{"id":"cs_1","object":"checkout.session","metadata":{"packId":5}}}}`,
	} {
		b := []byte(body)
		ev, err := p.ParseWebhook(b, sign(b, testSecret, time.Now()))
		if !errors.Is(err, billing.ErrInvalidWebhook) || rv.KindOf(err) != rv.KindInvalid {
			t.Errorf("%s: ParseWebhook = %+v, %v; want ErrInvalidWebhook", name, ev, err)
		}
	}
}

// TestClientsAreIndependent checks that two Payments do not share a key or
// a backend: one works while the other is refused.
func TestClientsAreIndependent(t *testing.T) {
	good, _ := mockPayments(t, testKey)
	bad, _ := mockPayments(t, "not_a_key")
	req := checkoutRequest(billing.Pack{ID: "plus", Tokens: 15, PriceID: "price_plus"})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := good.CreateCheckoutSession(context.Background(), req); err != nil {
				t.Errorf("good client: %v", err)
			}
		})
		wg.Go(func() {
			if _, err := bad.CreateCheckoutSession(context.Background(), req); !errors.Is(err, billing.ErrPaymentProvider) {
				t.Errorf("bad client: %v, want ErrPaymentProvider", err)
			}
		})
	}
	wg.Wait()
}
