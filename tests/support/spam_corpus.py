"""Labelled comments for the learning filter's test (issue 14): link spam, SEO spam, scams,
pharmacy and casino spam, and genuine comments on the articles of a health and cooking blog in
English, German, French, Spanish and Italian.

``comments("train")`` and ``comments("unseen")`` are generated separately: another random seed,
and for every kind some templates, spam domains, products and article topics that only the
unseen set has, so the filter is scored on comments it never saw (and on some words it never
saw). Deterministic: the same call gives the same comments.
"""
from __future__ import annotations

import random

# --- spam ------------------------------------------------------------------------------------

SPAM_DOMAINS = {
    "train": ["cheap-meds-online.example", "bestcasino-bonus.example", "seo-rank-pro.example",
              "crypto-double.example", "replica-watches.example", "quickloans-now.example",
              "followers-shop.example", "dating-hot.example"],
    "unseen": ["pharma-discount24.example", "spin-win-slots.example", "backlink-factory.example",
               "bitcoin-profit-club.example", "fastcash-payday.example"],
}
PRODUCTS = {
    "train": ["viagra", "cialis", "tramadol", "replica rolex", "instagram followers", "payday loans",
              "casino bonus", "free spins", "backlinks", "weight loss pills", "CBD gummies"],
    "unseen": ["generic levitra", "modafinil", "tiktok likes", "slot machine jackpot",
               "guest post packages", "keto diet pills", "instant cash loan"],
}
SPAM_TEMPLATES = {
    "train": [
        "Great post! Buy {product} at [{domain}](https://{domain}/) cheapest price, no prescription.",
        "Nice article, very informative. Check my site https://{domain}/ for {product}!!!",
        "I earned $5000 in one week with {product}. Visit https://{domain} now and start earning today.",
        "Best {product} online: https://{domain}/buy https://{domain}/deal 100% guaranteed results.",
        "We offer professional SEO services: {product}, rank #1 on Google in 7 days. Contact https://{domain}",
        "Congratulations! You have won a free iPhone. Claim your prize here: https://{domain}/claim",
        "Hello admin, I can boost your website traffic with {product}. WhatsApp +1 555 0100 or https://{domain}",
        "Double your bitcoin in 24 hours, send 0.1 BTC and receive 0.2 BTC back. https://{domain}",
        "Cheap {product} free shipping worldwide, discount code SAVE50 at https://{domain}",
        "Hot singles in your area want to meet you tonight https://{domain}",
        "Dear friend, I am a banker with an inheritance of $4.5 million for you. "
        "Reply with your bank details.",
        "{product} {product} {product} best price https://{domain} order now",
    ],
    "unseen": [
        "Thanks for sharing! I found {product} for half price at https://{domain} - limited offer",
        "Amazing blog. Earn money from home with {product}, join https://{domain}/register today!",
        "Work from home and make $300 a day, no experience needed. Details: https://{domain}",
        "Get {product} without prescription, fast delivery, visit [our store](https://{domain}/shop)",
        "Your website could rank higher with {product}. Affordable packages at https://{domain}",
        "URGENT: your account will be suspended, verify your payment at https://{domain}/verify",
    ],
}
SPAM_NAMES = ["Best Deals", "SEO Expert", "Cheap Pills", "Mark Johnson", "Crypto King", "Loan Offer",
              "Sandra", "Online Casino", "John Smith", "Hot Girl", "Money Maker"]

# --- genuine comments ------------------------------------------------------------------------

TOPICS = {
    "train": {
        "en": ["magnesium for muscle spasms", "the sourdough recipe", "stretching before running",
               "the lentil soup", "sleep and night cramps"],
        "de": ["Magnesium gegen Wadenkrämpfe", "das Sauerteigbrot", "Dehnen vor dem Laufen",
               "die Linsensuppe"],
        "fr": ["le magnésium et les crampes", "le pain au levain", "les étirements avant la course"],
        "es": ["el magnesio para los calambres", "el pan de masa madre", "los estiramientos"],
        "it": ["il magnesio per i crampi", "il pane con lievito madre"],
    },
    "unseen": {
        "en": ["potassium and bananas", "the vegetable curry", "hydration on long hikes"],
        "de": ["Kalium und Bananen", "das Gemüsecurry"],
        "fr": ["le potassium et les bananes", "le curry de légumes"],
        "es": ["el potasio y los plátanos", "el curry de verduras"],
        "it": ["il potassio e le banane", "il curry di verdure"],
    },
}
HAM_TEMPLATES = {
    "en": ["Thanks for the article about {topic}. I tried it last week and it helped a lot.",
           "I have a question about {topic}: how long did it take before you noticed a difference?",
           "My doctor said something similar about {topic}, but she also recommended drinking more water.",
           "I disagree a little with the part on {topic}; in my experience it depends on the person.",
           "Great write-up on {topic}! Could you share where you found the study you mention?",
           "Post 7 is right, {topic} worked for me too, but only after two or three weeks.",
           "I made {topic} yesterday with my kids. We used less salt and it was still delicious.",
           "Interesting. For {topic} there is a good overview on [Wikipedia](https://en.wikipedia.org/wiki/Magnesium).",
           "Has anyone tried {topic} while pregnant? I would like to hear your experiences.",
           "This is exactly what I needed to read about {topic}, thank you for taking the time."],
    "de": ["Danke für den Artikel über {topic}. Bei mir hat es nach ein paar Tagen geholfen.",
           "Eine Frage zu {topic}: Wie oft am Tag machen Sie das?",
           "Ich sehe das mit {topic} etwas anders, aber der Beitrag ist gut geschrieben.",
           "Meine Ärztin hat mir {topic} auch empfohlen, zusammen mit mehr Bewegung."],
    "fr": ["Merci pour cet article sur {topic}, c'est très clair et utile.",
           "J'ai une question sur {topic} : faut-il le faire le matin ou le soir ?",
           "Pour {topic}, mon médecin m'a conseillé la même chose. Ça marche bien."],
    "es": ["Gracias por el artículo sobre {topic}, me ha ayudado mucho.",
           "Tengo una pregunta sobre {topic}: ¿cuánto tiempo hay que esperar?",
           "Yo probé {topic} el mes pasado y noté la diferencia enseguida."],
    "it": ["Grazie per l'articolo su {topic}, molto utile e chiaro.",
           "Ho una domanda su {topic}: quante volte alla settimana lo consigli?"],
}
HAM_NAMES = ["Mary", "Mr Confused", "Jens", "Claire", "Lucía", "Giulia", "", "", "Tom B.", "Ana", "Pierre"]
LANGUAGES = ["en", "en", "en", "de", "fr", "es", "it"]


def _spam(rng: random.Random, split: str) -> dict:
    # Mostly this split's own templates, domains and products; the unseen set also reuses some
    # of the training set's (spammers do), never a training comment itself.
    def pick(pools: dict) -> str:
        pool = pools[split] if split == "train" or rng.random() < 0.7 else pools["train"]
        return rng.choice(pool)

    domain, product = pick(SPAM_DOMAINS), pick(PRODUCTS)
    text = pick(SPAM_TEMPLATES).format(domain=domain, product=product)
    return {"text": text, "author": rng.choice(SPAM_NAMES),
            "email": rng.choice([None, f"offers{rng.randrange(999)}@{domain}",
                                 f"seo{rng.randrange(99)}@mail.example"]),
            "website": rng.choice([None, f"https://{domain}/"]), "spam": True}


def _genuine(rng: random.Random, split: str) -> dict:
    language = rng.choice(LANGUAGES)
    pools = TOPICS[split] if split == "train" or rng.random() < 0.7 else TOPICS["train"]
    text = rng.choice(HAM_TEMPLATES[language]).format(topic=rng.choice(pools[language]))
    if rng.random() < 0.3:
        text += rng.choice([" Best wishes from Hamburg.", " 🙂", " (Sorry for my English.)",
                            " Keep up the good work!", " Merci !", " ¡Saludos!"])
    name = rng.choice(HAM_NAMES)
    return {"text": text, "author": name,
            "email": rng.choice([None, f"reader{rng.randrange(999)}@mail.example"]),
            "website": rng.choice([None, None, None, "https://blog.example/"]), "spam": False}


def comments(split: str, spam: int = 60, genuine: int = 60) -> list[dict]:
    """``spam`` spam comments and ``genuine`` genuine ones of ``split`` ("train" or "unseen"), mixed."""
    rng = random.Random(f"widget-filter-{split}")
    seen = {c["text"] for c in comments("train", 200, 200)} if split == "unseen" else set()
    made: list[dict] = []
    for count, make in ((spam, _spam), (genuine, _genuine)):
        kept = 0
        while kept < count:
            comment = make(rng, split)
            if comment["text"] not in seen:  # never a comment of the training set, nor one twice
                seen.add(comment["text"])
                made.append(comment)
                kept += 1
    rng.shuffle(made)
    return made
