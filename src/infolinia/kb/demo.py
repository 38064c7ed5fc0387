"""The demo tenant's knowledge base: categories and articles in Polish and English, public (on its help page,
``/help/demo``) and internal (for agents), and one draft."""

from __future__ import annotations

from typing import Final

from infolinia.kb.actions import create_article, create_category
from infolinia.kb.schemas import ArticleIn, CategoryIn
from infolinia.store.uow import Tx

CATEGORIES: Final = (
    ("billing", {"pl": "Rachunki i płatności", "en": "Bills and payments"}),
    ("complaints", {"pl": "Reklamacje", "en": "Complaints"}),
    ("technical", {"pl": "Pomoc techniczna", "en": "Technical help"}),
)

# (category, slug, language, visibility, status, title, body)
ARTICLES: Final = (
    ("billing", "payment-deadlines", "pl", "public", "published", "Terminy płatności faktur",
     "Fakturę za usługi wystawiamy pierwszego dnia miesiąca. **Termin płatności wynosi 14 dni** od daty "
     "wystawienia faktury.\n\nJeśli płatność nie wpłynie w terminie, po 7 dniach wysyłamy przypomnienie, a po "
     "30 dniach naliczamy odsetki ustawowe.\n\n- Numer konta znajdziesz na każdej fakturze.\n"
     "- Płatność kartą jest możliwa w panelu klienta.\n- Zmiana terminu płatności: zadzwoń na infolinię."),
    ("billing", "payment-deadlines", "en", "public", "published", "Invoice payment deadlines",
     "We issue the invoice for our services on the first day of each month. **Payment is due within 14 days** "
     "of the invoice date.\n\nIf a payment is late, we send a reminder after 7 days and charge statutory "
     "interest after 30 days.\n\n- The account number is printed on every invoice.\n"
     "- You can pay by card in the customer portal.\n- To change your payment date, call the hotline."),
    ("complaints", "how-to-file-a-complaint", "pl", "public", "published", "Jak złożyć reklamację",
     "Reklamację możesz złożyć telefonicznie, e-mailem lub przez formularz na stronie. Podaj numer klienta, "
     "numer faktury (jeśli reklamacja dotyczy faktury) i opisz problem.\n\nKażda reklamacja dostaje numer "
     "sprawy. **Odpowiadamy w ciągu 14 dni**; reklamacje usług telekomunikacyjnych rozpatrujemy w ciągu 30 "
     "dni od ich złożenia."),
    ("complaints", "how-to-file-a-complaint", "en", "public", "published", "How to file a complaint",
     "You can file a complaint by phone, by e-mail or with the form on our website. Give your customer number, "
     "the invoice number (when the complaint is about an invoice) and describe the problem.\n\nEvery complaint "
     "gets a case number. **We answer within 14 days**; complaints about telecommunication services are "
     "decided within 30 days of filing."),
    ("complaints", "complaint-handling", "pl", "internal", "published", "Obsługa reklamacji faktury (procedura)",
     "1. Zidentyfikuj klienta i fakturę.\n2. Załóż sprawę w kategorii *billing* albo *complaint* i zapisz słowa "
     "klienta.\n3. Jeśli faktura jest błędna, eskaluj sprawę do zespołu rozliczeń (back office).\n4. Powiedz "
     "klientowi numer sprawy i termin odpowiedzi: 14 dni.\n\nKorekty faktur wystawia wyłącznie back office."),
    ("billing", "invoice-correction", "en", "internal", "published", "Issuing a corrected invoice",
     "Only the billing back office issues corrected invoices. The front line files a case with the invoice "
     "number and the customer's words and escalates it.\n\nA corrected invoice is sent by e-mail within 3 "
     "working days of the decision."),
    ("technical", "router-restart", "pl", "public", "published", "Restart routera",
     "Gdy internet nie działa, odłącz router od zasilania na 30 sekund i podłącz go ponownie. Poczekaj 2 minuty, "
     "aż zapalą się wszystkie diody.\n\nJeśli internet nadal nie działa, zadzwoń na infolinię i wybierz 2."),
    ("technical", "router-restart", "en", "public", "published", "Restarting your router",
     "When the internet does not work, unplug the router for 30 seconds and plug it in again. Wait 2 minutes "
     "until all lights are on.\n\nIf the internet still does not work, call the hotline and press 2."),
    ("billing", "new-tariffs", "en", "public", "draft", "New tariffs from next year",
     "Draft: the new tariffs are not announced yet."),
)  # fmt: skip


async def seed_demo_kb(tx: Tx, tenant_id: int) -> None:
    categories = {}
    for position, (slug, names) in enumerate(CATEGORIES):
        categories[slug] = await create_category(tx, tenant_id, CategoryIn(slug=slug, names=names, position=position))
    for category, slug, language, visibility, status, title, body in ARTICLES:
        data = ArticleIn(language=language, slug=slug, title=title, body=body, category_id=categories[category].id,
                         visibility=visibility, status=status)  # fmt: skip
        await create_article(tx, tenant_id, data)
