"""A seeded synthetic card-payment stream with labelled fraud, for training and evaluating the
fraud model where no real labelled data exists yet.

Same seed, same events, on any machine: only ``random.Random`` (its algorithm is fixed by
Python) drives it, and every identifier is derived from counters.

Genuine customers: each card has an issuing BIN and country, one or two devices, a home IP or
two, a typical basket (log-normal amount) and a purchase rate. They buy at merchants of
Zipf-like popularity, sometimes from another device or a mobile IP, sometimes abroad (the
legitimate look-alikes of fraud), sometimes a large basket; about 2.5 % of their attempts are
declined (funds, limits). New cards join over the whole period, so "first seen" is common and
not, alone, a fraud signal.

Typologies (each an *episode*; every attempt of an episode is labelled fraud):

``card_testing``
    One device and one IP abroad try many cards (new and stolen) for tiny amounts at one
    small merchant, seconds apart; most attempts are declined.
``bin_attack``
    Sequential card numbers of one BIN (so many new tokens sharing a BIN) enumerated at one
    merchant from a small botnet of rotating IPs and devices; nearly all declined.
``account_takeover``
    A known, active card suddenly used from a new device, mostly from another country, for a
    few purchases several times its usual basket.
``stolen_card_burst``
    A known card used many times within the hour at different merchants, from a new device,
    half the time through a proxy in the card's own country.
``high_value_first_purchase``
    A card never seen before makes one large purchase from a new device, often from an IP in
    the card's own country.

Labels arrive late, as chargebacks and fraud reports do: each fraudulent attempt has a
``label_at`` time (days to weeks later for chargebacks, a day or two for testing and BIN
attacks, which issuers and the operations team report quickly). The trainer only learns a
fraud label that had arrived by its training date.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from functions.domain.fraud_features import FraudEvent

DAY = 86_400
HOUR = 3_600
START = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed origin keeps the events byte-stable

GENUINE = "genuine"
TYPOLOGIES = (
    "card_testing",
    "bin_attack",
    "account_takeover",
    "stolen_card_burst",
    "high_value_first_purchase",
)
HOME_COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "GB", "BE", "AT", "PL", "SE", "IE", "US")
HOME_WEIGHTS = (20, 16, 10, 10, 10, 12, 5, 4, 5, 3, 3, 2)
# Where attacks come from: mostly outside the EEA/UK, sometimes inside it.
ATTACK_COUNTRIES = ("US", "BR", "NG", "VN", "RU", "ID", "RO", "NL", "GB", "UA")
TRAVEL_COUNTRIES = ("US", "ES", "PT", "GR", "TH", "TR", "CH", "MA", "JP", "MX")


@dataclass(frozen=True, slots=True)
class LabelledEvent:
    event: FraudEvent
    typology: str  # GENUINE or one of TYPOLOGIES
    label_at: int | None  # when the fraud label arrives; None for genuine attempts

    @property
    def fraud(self) -> bool:
        return self.typology != GENUINE

    def known_fraud(self, as_of: int) -> bool:
        """Whether a trainer running at ``as_of`` knows this attempt was fraud."""
        return self.label_at is not None and self.label_at <= as_of


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    seed: int = 7
    days: int = 35
    cards: int = 5_000
    merchants: int = 400
    bins: int = 60
    purchases_per_card_day: float = 0.45
    # Attack episodes per day, by typology.
    attacks_per_day: tuple[tuple[str, float], ...] = (
        ("card_testing", 0.3),
        ("bin_attack", 0.15),
        ("account_takeover", 2.5),
        ("stolen_card_burst", 2.0),
        ("high_value_first_purchase", 3.0),
    )


@dataclass(slots=True)
class _Card:
    token: str
    bin: str
    country: str
    devices: list[str]
    ips: list[str]
    basket_minor: float
    rate_per_day: float
    start: int


@dataclass(slots=True)
class _World:
    rng: random.Random
    config: GeneratorConfig
    bins: list[tuple[str, str]] = field(default_factory=list)  # (bin, country)
    merchants: list[str] = field(default_factory=list)
    merchant_weights: list[float] = field(default_factory=list)
    cards: list[_Card] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def new_id(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}_{n:07d}"

    def merchant(self) -> str:
        return self.rng.choices(self.merchants, self.merchant_weights)[0]


def _build_world(config: GeneratorConfig) -> _World:
    rng = random.Random(config.seed)
    world = _World(rng, config)
    for i in range(config.bins):
        country = rng.choices(HOME_COUNTRIES, HOME_WEIGHTS)[0]
        world.bins.append((f"{400000 + i * 137:06d}", country))
    world.merchants = [f"m_{i:04d}" for i in range(config.merchants)]
    world.merchant_weights = [1.0 / (i + 1) ** 0.9 for i in range(config.merchants)]
    span = config.days * DAY
    for _ in range(config.cards):
        bin_, country = rng.choice(world.bins)
        devices = [world.new_id("dev") for _ in range(1 if rng.random() < 0.6 else 2)]
        ips = [world.new_id("ip") for _ in range(1 if rng.random() < 0.7 else 2)]
        # A third of the cards exist from the start; the rest join during the period.
        start = 0 if rng.random() < 0.35 else int(rng.random() * span)
        world.cards.append(
            _Card(
                token=world.new_id("tok"),
                bin=bin_,
                country=country,
                devices=devices,
                ips=ips,
                basket_minor=rng.lognormvariate(math.log(4_000), 0.8),
                rate_per_day=config.purchases_per_card_day * rng.lognormvariate(0, 0.6),
                start=START + start,
            )
        )
    return world


def _amount(rng: random.Random, basket: float, spread: float = 0.5) -> int:
    return max(50, int(rng.lognormvariate(math.log(basket), spread)))


def _event(
    world: _World,
    at: int,
    card: _Card,
    amount: int,
    declined: bool,
    merchant: str,
    device: str | None,
    ip: str,
    ip_country: str,
    card_country: str | None = None,
) -> FraudEvent:
    return FraudEvent(
        event_id=world.new_id("evt"),
        occurred_at=at,
        card=card.token,
        merchant_id=merchant,
        amount_eur_minor=amount,
        declined=declined,
        bin=card.bin,
        device_id=device,
        ip=ip,
        card_country=card_country or card.country,
        ip_country=ip_country,
        customer_country=card.country,
    )


def _genuine(world: _World) -> Iterator[LabelledEvent]:
    rng, end = world.rng, START + world.config.days * DAY
    for card in world.cards:
        at = card.start
        traveling_until, travel_country, travel_ip = 0, "", ""
        while True:
            at += int(rng.expovariate(card.rate_per_day) * DAY) + 1
            if at >= end:
                break
            roll = rng.random()
            if roll < 0.004:  # a new phone: the card's usual device changes for good
                card.devices.append(world.new_id("dev"))
            device = card.devices[-1] if rng.random() < 0.8 else rng.choice(card.devices)
            if at < traveling_until:
                ip, ip_country = travel_ip, travel_country
            elif rng.random() < 0.01:  # a trip abroad of a few days
                traveling_until = at + int(rng.uniform(2, 10) * DAY)
                travel_country = rng.choice(TRAVEL_COUNTRIES)
                travel_ip = world.new_id("ip")
                ip, ip_country = travel_ip, travel_country
            elif rng.random() < 0.08:  # mobile data or a café's wifi
                ip, ip_country = world.new_id("ip"), card.country
            else:
                ip, ip_country = rng.choice(card.ips), card.country
            basket = card.basket_minor * (rng.uniform(4, 15) if rng.random() < 0.02 else 1)
            amount = _amount(rng, basket)
            declined = rng.random() < (0.025 if amount < 50_000 else 0.08)
            yield LabelledEvent(
                _event(world, at, card, amount, declined, world.merchant(), device, ip, ip_country),
                GENUINE,
                None,
            )


def _label_delay(rng: random.Random, fast: bool) -> int:
    median_days = 1.5 if fast else 12.0
    return int(rng.lognormvariate(math.log(median_days * DAY), 0.6))


def _known_card(world: _World, at: int) -> _Card | None:
    for _ in range(20):
        card = world.rng.choice(world.cards)
        if card.start < at - 3 * DAY:
            return card
    return None


def _stolen_card(world: _World, bin_: tuple[str, str] | None = None) -> _Card:
    number_bin, country = bin_ or world.rng.choice(world.bins)
    return _Card(world.new_id("tok"), number_bin, country, [], [], 0.0, 0.0, 0)


def _card_testing(world: _World, at: int) -> Iterator[tuple[FraudEvent, bool]]:
    rng = world.rng
    device, ip = world.new_id("dev"), world.new_id("ip")
    country = rng.choice(ATTACK_COUNTRIES)
    merchant = world.merchants[rng.randrange(world.config.merchants // 2, world.config.merchants)]
    for _ in range(rng.randint(15, 60)):
        at += rng.randint(3, 40)
        card = _stolen_card(world) if rng.random() < 0.7 else _known_card(world, at)
        card = card or _stolen_card(world)
        declined = rng.random() < 0.6
        amount = rng.randint(50, 300)
        yield _event(world, at, card, amount, declined, merchant, device, ip, country), True


def _bin_attack(world: _World, at: int) -> Iterator[tuple[FraudEvent, bool]]:
    rng = world.rng
    bin_ = rng.choice(world.bins)
    merchant = world.merchant()
    devices = [world.new_id("dev") for _ in range(rng.randint(2, 5))]
    ips = [world.new_id("ip") for _ in range(rng.randint(3, 10))]
    country = rng.choice(ATTACK_COUNTRIES)
    for _ in range(rng.randint(30, 120)):
        at += rng.randint(5, 30)
        card = _stolen_card(world, bin_)  # the next number in the BIN: a token never seen
        declined = rng.random() < 0.85
        amount = rng.randint(100, 2_000)
        event = _event(
            world,
            at,
            card,
            amount,
            declined,
            merchant,
            rng.choice(devices),
            rng.choice(ips),
            country,
        )
        yield event, True


def _account_takeover(world: _World, at: int) -> Iterator[tuple[FraudEvent, bool]]:
    rng = world.rng
    card = _known_card(world, at)
    if card is None:
        return
    device, ip = world.new_id("dev"), world.new_id("ip")
    country = rng.choice(ATTACK_COUNTRIES) if rng.random() < 0.8 else card.country
    for _ in range(rng.randint(1, 3)):
        at += rng.randint(60, 2 * HOUR)
        amount = _amount(rng, card.basket_minor * rng.uniform(3, 10), 0.3)
        declined = rng.random() < 0.1
        yield (
            _event(world, at, card, amount, declined, world.merchant(), device, ip, country),
            False,
        )


def _stolen_card_burst(world: _World, at: int) -> Iterator[tuple[FraudEvent, bool]]:
    rng = world.rng
    card = _known_card(world, at)
    if card is None:
        return
    device = world.new_id("dev") if rng.random() < 0.7 else rng.choice(card.devices)
    ip = world.new_id("ip")
    country = card.country if rng.random() < 0.5 else rng.choice(ATTACK_COUNTRIES)
    for i in range(rng.randint(3, 10)):
        at += rng.randint(60, 15 * 60)
        amount = _amount(rng, card.basket_minor * rng.uniform(1, 4), 0.4)
        declined = rng.random() < 0.1 + 0.05 * i
        yield (
            _event(world, at, card, amount, declined, world.merchant(), device, ip, country),
            False,
        )


def _high_value_first_purchase(world: _World, at: int) -> Iterator[tuple[FraudEvent, bool]]:
    rng = world.rng
    card = _stolen_card(world)
    country = card.country if rng.random() < 0.6 else rng.choice(ATTACK_COUNTRIES)
    amount = rng.randint(30_000, 300_000)
    declined = rng.random() < 0.1
    event = _event(
        world,
        at,
        card,
        amount,
        declined,
        world.merchant(),
        world.new_id("dev"),
        world.new_id("ip"),
        country,
    )
    yield event, False


_ATTACKS = {
    "card_testing": _card_testing,
    "bin_attack": _bin_attack,
    "account_takeover": _account_takeover,
    "stolen_card_burst": _stolen_card_burst,
    "high_value_first_purchase": _high_value_first_purchase,
}


def _attacks(world: _World) -> Iterator[LabelledEvent]:
    rng, span = world.rng, world.config.days * DAY
    for typology, per_day in world.config.attacks_per_day:
        at = START
        while True:
            at += int(rng.expovariate(per_day) * DAY) + 1
            if at >= START + span:
                break
            for event, fast in _ATTACKS[typology](world, at):
                yield LabelledEvent(event, typology, event.occurred_at + _label_delay(rng, fast))


def generate(config: GeneratorConfig | None = None) -> list[LabelledEvent]:
    """The period's authorization attempts, in time order (ties by event id)."""
    config = config or GeneratorConfig()
    world = _build_world(config)
    events = [*_genuine(world), *_attacks(world)]
    events.sort(key=lambda item: (item.event.occurred_at, item.event.event_id))
    return events
