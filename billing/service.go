package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Limits of Transactions.
const (
	// DefaultTransactionsLimit is the page size of Transactions when the
	// caller gives none.
	DefaultTransactionsLimit = 20
	// MaxTransactionsLimit is the largest page size of Transactions;
	// larger limits are lowered to it.
	MaxTransactionsLimit = 100
)

// MaxKeyLength is the longest debit key, in bytes. Stripe session and
// event ids are held to the same bound.
const MaxKeyLength = 255

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps the wallets and their ledgers. Required.
	Store Store
	// Payments creates Checkout Sessions and verifies webhooks
	// (billing/stripe). Default nil: Purchase and HandleWebhook fail with
	// ErrPaymentsUnavailable while balances, ledgers, debits, refunds and
	// bonuses keep working.
	Payments Payments
	// Packs are the packs on sale. Default DefaultPacks(), which have no
	// price: a pack without a PriceID, or an Amount and a Currency, is
	// listed but Purchase refuses it with ErrPackNotPurchasable.
	Packs []Pack
	// SuccessURL and CancelURL are where Checkout sends the buyer's browser
	// after paying or giving up: absolute http or https URLs, required
	// when Payments is set. SuccessURL may hold Stripe's
	// {CHECKOUT_SESSION_ID} placeholder.
	SuccessURL, CancelURL string
	// SignupBonus is the number of tokens GrantSignupBonus credits.
	// Default 0: no bonus.
	SignupBonus int
	// Clock tells the time of transactions. Default
	// rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives webhook outcomes: credits at Info level, ignored and
	// duplicate events at Debug level, refused deliveries (bad signature)
	// and payment provider failures at Warn level, and verified events
	// that cannot be credited (unknown pack, missing buyer) at Error
	// level. Default: silent.
	Logger *slog.Logger
}

// Service implements the token wallet: balances and ledgers, the packs on
// sale, their purchase through Checkout, the webhook that credits paid
// purchases, the sign-up bonus, and the debits and refunds of the
// matchmaking queue. It is safe for concurrent use, and any number of
// Services on any number of processes may share a Store.
type Service struct {
	cfg   Config
	packs map[string]Pack
	log   *slog.Logger
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("billing: Config.Store is required")
	}
	if cfg.Packs == nil {
		cfg.Packs = DefaultPacks()
	}
	packs, err := checkPacks(cfg.Packs)
	if err != nil {
		return nil, err
	}
	cfg.Packs = packs
	if cfg.SignupBonus < 0 {
		return nil, errors.New("billing: Config.SignupBonus must not be negative")
	}
	for _, u := range []struct{ name, v string }{{"SuccessURL", cfg.SuccessURL}, {"CancelURL", cfg.CancelURL}} {
		switch {
		case u.v == "" && cfg.Payments != nil:
			return nil, fmt.Errorf("billing: Config.%s is required when Config.Payments is set", u.name)
		case u.v != "" && !absoluteHTTPURL(u.v):
			return nil, fmt.Errorf("billing: Config.%s must be an absolute http or https URL", u.name)
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, packs: make(map[string]Pack, len(packs)), log: cfg.Logger}
	for _, p := range packs {
		s.packs[p.ID] = p
	}
	return s, nil
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// now returns the current time in UTC, to the microsecond: the precision
// of every stored time.
func (s *Service) now() time.Time {
	return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond)
}

// Packs returns the packs on sale, in their configured order.
func (s *Service) Packs() []Pack { return slices.Clone(s.cfg.Packs) }

// PaymentsEnabled reports whether a payment provider is configured, so
// that Purchase and HandleWebhook can work.
func (s *Service) PaymentsEnabled() bool { return s.cfg.Payments != nil }

// Balance returns the user's balance: 0 for a user without a wallet.
func (s *Service) Balance(ctx context.Context, userID string) (int, error) {
	if !uuid.Valid(userID) {
		return 0, ErrInvalidUserID
	}
	return s.cfg.Store.Balance(ctx, userID)
}

// Transactions returns a page of the user's ledger, newest first. cursor
// is "" for the first page, else the NextCursor of the previous page;
// pages are stable: transactions made after the first page was read do not
// shift the later pages. limit is the page size: DefaultTransactionsLimit
// when 0 or negative, at most MaxTransactionsLimit. A cursor that is not
// a NextCursor is ErrInvalidCursor.
func (s *Service) Transactions(ctx context.Context, userID, cursor string, limit int) (Page, error) {
	if !uuid.Valid(userID) {
		return Page{}, ErrInvalidUserID
	}
	before, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	switch {
	case limit <= 0:
		limit = DefaultTransactionsLimit
	case limit > MaxTransactionsLimit:
		limit = MaxTransactionsLimit
	}
	txs, err := s.cfg.Store.Transactions(ctx, userID, before, limit+1)
	if err != nil {
		return Page{}, err
	}
	page := Page{Transactions: txs}
	if len(txs) > limit {
		page.Transactions = txs[:limit]
		page.NextCursor = encodeCursor(txs[limit-1].Seq)
	}
	if page.Transactions == nil {
		page.Transactions = []Transaction{}
	}
	return page, nil
}

// Purchase creates a Checkout Session for one pack bought by the user and
// returns it; the client sends the buyer to its URL. The tokens are
// credited when the webhook reports the session paid. It returns
// ErrUnknownPack for a pack that is not on sale, ErrPaymentsUnavailable
// without a payment provider, ErrPackNotPurchasable for a pack without a
// price, and ErrPaymentProvider when the provider fails.
//
// Each call is a new session, created with an idempotency key of its own,
// so the provider client's retries of this call create one session.
func (s *Service) Purchase(ctx context.Context, userID, packID string) (CheckoutSession, error) {
	if !uuid.Valid(userID) {
		return CheckoutSession{}, ErrInvalidUserID
	}
	p, ok := s.packs[packID]
	if !ok {
		return CheckoutSession{}, ErrUnknownPack.WithMessage("unknown token pack; the packs are %s", s.packIDs())
	}
	if s.cfg.Payments == nil {
		return CheckoutSession{}, ErrPaymentsUnavailable
	}
	if !p.Purchasable() {
		return CheckoutSession{}, ErrPackNotPurchasable
	}
	cs, err := s.cfg.Payments.CreateCheckoutSession(ctx, CheckoutRequest{
		UserID:         userID,
		Pack:           p,
		SuccessURL:     s.cfg.SuccessURL,
		CancelURL:      s.cfg.CancelURL,
		IdempotencyKey: "rendezvous-checkout-" + uuid.New(),
	})
	if err == nil && (cs.ID == "" || cs.URL == "") {
		err = ErrPaymentProvider.Wrap(errors.New("the checkout session has no id or no url"))
	}
	if err != nil {
		if rv.KindOf(err) == rv.KindInternal {
			err = ErrPaymentProvider.Wrap(err)
		}
		s.log.WarnContext(ctx, "billing: checkout session not created", "user", userID, "pack", packID, "error", err)
		return CheckoutSession{}, err
	}
	return cs, nil
}

func (s *Service) packIDs() string {
	ids := make([]string, len(s.cfg.Packs))
	for i, p := range s.cfg.Packs {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}

// HandleWebhook verifies and handles one webhook delivery: payload is the
// raw request body, byte for byte, and signatureHeader the
// Stripe-Signature header.
//
// A delivery whose signature is missing, malformed, wrong or too old is
// ErrInvalidSignature, and a signed payload that is not an event
// ErrInvalidWebhook: nothing is credited. Without a payment provider it is
// ErrPaymentsUnavailable.
//
// A verified event credits its Checkout Session's pack when it is
// checkout.session.completed with payment_status "paid", or
// checkout.session.async_payment_succeeded. The user is the session's
// client_reference_id and the number of tokens comes from the configured
// pack named by the session's metadata "packId", never from the event.
// The event is recorded and the session credited in one store
// transaction, so a redelivered event, and a second event for a session
// already credited, change nothing. Every other event, and a completed
// session that is not paid yet, is acknowledged (nil) without a credit.
//
// A verified credit event that cannot be credited (an unknown pack, a
// client reference that is not a user id, no session id) is logged at
// Error level and acknowledged (nil): the provider's retries could not
// change its content. Any other error (the store failed) means the
// delivery should be retried: the handling is idempotent.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signatureHeader string) error {
	if s.cfg.Payments == nil {
		return ErrPaymentsUnavailable
	}
	ev, err := s.cfg.Payments.ParseWebhook(payload, signatureHeader)
	if err != nil {
		if rv.KindOf(err) == rv.KindInternal {
			err = ErrInvalidSignature.Wrap(err)
		}
		s.log.WarnContext(ctx, "billing: webhook delivery refused", "error", err)
		return err
	}
	if !validRef(ev.ID) || ev.Type == "" {
		return ErrInvalidWebhook.WithMessage("the webhook event has no valid id or type")
	}
	log := s.log.With("event", ev.ID, "type", ev.Type)
	switch {
	case ev.Type == EventCheckoutAsyncPaymentSucceeded:
	case ev.Type == EventCheckoutCompleted && ev.PaymentStatus == PaymentStatusPaid:
	case ev.Type == EventCheckoutCompleted:
		log.DebugContext(ctx, "billing: checkout session completed unpaid; waiting for its asynchronous payment",
			"session", ev.CheckoutSessionID, "paymentStatus", ev.PaymentStatus)
		return nil
	default:
		log.DebugContext(ctx, "billing: webhook event ignored")
		return nil
	}

	log = log.With("session", ev.CheckoutSessionID, "user", ev.ClientReferenceID, "pack", ev.PackID)
	p, ok := s.packs[ev.PackID]
	var problem string
	switch {
	case !validRef(ev.CheckoutSessionID):
		problem = "the event has no valid checkout session id"
	case !uuid.Valid(ev.ClientReferenceID):
		problem = "the session's client_reference_id is not a user id"
	case !ok:
		problem = "the session's metadata packId names no configured pack"
	}
	if problem != "" {
		log.ErrorContext(ctx, "billing: paid checkout session NOT credited; acknowledged so that it is not redelivered: "+problem)
		return nil
	}

	tx, credited, err := s.cfg.Store.CreditPurchase(ctx, PurchaseCredit{
		EventID:       ev.ID,
		EventType:     ev.Type,
		SessionID:     ev.CheckoutSessionID,
		UserID:        ev.ClientReferenceID,
		PackID:        p.ID,
		Tokens:        p.Tokens,
		TransactionID: uuid.New(),
		Now:           s.now(),
	})
	if err != nil {
		return err
	}
	if credited {
		log.InfoContext(ctx, "billing: purchase credited", "tokens", tx.Amount, "balance", tx.BalanceAfter, "transaction", tx.ID)
	} else {
		log.DebugContext(ctx, "billing: event or session already handled; nothing credited", "transaction", tx.ID)
	}
	return nil
}

// GrantSignupBonus credits Config.SignupBonus tokens to the user, once per
// user whatever the number of calls. It does nothing when SignupBonus is
// 0.
func (s *Service) GrantSignupBonus(ctx context.Context, userID string) error {
	if !uuid.Valid(userID) {
		return ErrInvalidUserID
	}
	if s.cfg.SignupBonus == 0 {
		return nil
	}
	_, _, err := s.cfg.Store.GrantBonus(ctx, BonusCredit{
		UserID:        userID,
		Tokens:        s.cfg.SignupBonus,
		TransactionID: uuid.New(),
		Now:           s.now(),
	})
	return err
}

// Debit takes one token from the user's wallet and returns the debit. The
// key identifies the debit (for the queue: one key per queue entry): a
// second call with the same key returns the first debit and takes
// nothing, even if the balance has dropped since, so a retried call never
// charges twice. It returns ErrInsufficientTokens when the balance is
// below one token, ErrDebitKeyConflict when the key belongs to another
// user's debit, and ErrInvalidDebitKey for an empty key, or one longer
// than MaxKeyLength bytes or holding control characters.
func (s *Service) Debit(ctx context.Context, userID, key string) (Transaction, error) {
	if !uuid.Valid(userID) {
		return Transaction{}, ErrInvalidUserID
	}
	if !validRef(key) {
		return Transaction{}, ErrInvalidDebitKey
	}
	tx, _, err := s.cfg.Store.Debit(ctx, DebitRequest{UserID: userID, Key: key, TransactionID: uuid.New(), Now: s.now()})
	if err != nil {
		return Transaction{}, err
	}
	if tx.UserID != userID {
		return Transaction{}, ErrDebitKeyConflict
	}
	return tx, nil
}

// Refund gives back the token of the debit made with debitKey, exactly
// once: it returns the refund and true, or, when the debit was already
// refunded, that refund and false. It returns ErrDebitNotFound when no
// debit has the key, and ErrInvalidDebitKey for a key Debit refuses.
func (s *Service) Refund(ctx context.Context, debitKey string) (Transaction, bool, error) {
	if !validRef(debitKey) {
		return Transaction{}, false, ErrInvalidDebitKey
	}
	return s.cfg.Store.Refund(ctx, RefundRequest{DebitKey: debitKey, TransactionID: uuid.New(), Now: s.now()})
}

// validRef reports whether s can be a debit key or a provider id: 1 to
// MaxKeyLength bytes of UTF-8 without control characters.
func validRef(s string) bool {
	if s == "" || len(s) > MaxKeyLength || !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}
