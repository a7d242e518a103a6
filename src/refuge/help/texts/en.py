"""Shipped help texts in English (the format is described in refuge.help.markup)."""

TEXTS = {
    "safety_note": (
        "Your safety",
        "This site sets no cookies and asks nothing about you. Your browser still remembers "
        "the pages you open: if someone else uses this phone or computer, use a private window "
        "or delete these pages from the history afterwards. To leave quickly, press Esc or "
        "“Leave this site”.",
    ),
    "home_intro": (
        "Find help near you",
        "If you are in danger now, call the emergency number of the country you are in "
        "(the numbers are below).\n\n"
        "Violence at home is never your fault. You can get help whatever your nationality or "
        "residence status: advice by phone, a lawyer, a psychologist or a safe place to stay. "
        "Choose the country and the region you are in to see who can help there.",
    ),
    "safety": (
        "Staying safe online",
        """## If someone checks your phone or computer
- Use a private (incognito) window: it keeps no history once you close it.
- If you could not, delete the pages of this site from the browser history. Deleting the \
whole history may draw attention; deleting only these pages is less visible.
- Someone may read your messages and see your calls and where you are through shared \
accounts or apps. If you think so, use a phone or computer that person cannot get at: a \
friend's, at work or in a library.

## Leaving quickly
- Press Esc or the “Leave this site” button at the top of every page: the page is replaced \
by a neutral site, and the Back button does not bring it back.
- Without JavaScript the button still works as a link, but the Back button can then return \
here.

## What this site keeps and what it does not
- It sets no cookies and asks for no name, phone number or e-mail address.
- It loads nothing from other sites, so no other company learns that you opened it.
- Your internet provider, and whoever runs the network you are on (at work, for example), \
can see which sites are opened.""",
    ),
    "leaflet_emergency": (
        "What to do in an emergency",
        """## If you are in danger now
- Call the emergency number of the country you are in (see the numbers in the box). Calls \
to these numbers are free.
- Say where you are, what is happening and whether anyone is hurt, children too.
- If you can, go to a safer place: a room with a way out and a phone. Keep away from the \
kitchen and from places with knives or other things that can be used as weapons.
- If you are hurt, see a doctor or go to a hospital and say how you were hurt. Ask them to \
write down every injury: the record can help you later.

## Getting ready to leave
- If it is safe, keep a bag ready, or leave it with someone you trust: passport, residence \
permit or visa, your children's birth certificates and documents, medicines, money and bank \
cards, keys, phone and charger.
- Keep copies or photos of your documents where the other person cannot find them: with a \
friend, for example, or in an e-mail account only you can open.
- Agree a code word with someone you trust: when they hear it, they call for help.
- Learn one or two phone numbers you can call by heart.

## After the emergency
- Crisis centres and helplines can help you plan for your safety, find a safe place to stay \
and get legal advice. Their help is usually free, and you can usually call without giving \
your name.""",
    ),
    "leaflet_rights": (
        "Your rights, whatever your residence status",
        """- Physical and sexual violence and threats are against the law, also in a marriage \
and in a family. Control, humiliation and taking away your money or documents are violence \
too, and counsellors can help you with them.
- You can call the police and the emergency services whatever your nationality or residence \
status.
- Urgent medical care must be given to everyone who needs it.
- When you report to the police or take part in court proceedings, you can ask for an \
interpreter into your language.
- Your passport and residence documents belong to you. Nobody, not your husband, his family \
or an employer, may keep them from you. If someone does, tell a counselling centre or the \
police.
- If your right to stay depends on your husband or partner, leaving violence does not always \
mean losing that right. In the European Union the law protects victims of domestic violence \
in this situation. Get advice from a lawyer or a counselling centre for migrants before your \
permit runs out and before you sign anything.
- You can get advice without giving your name and before you decide anything. The counselling \
centres of non-profit organisations are not the police and not the migration office.
- Your children have the right to be protected too. Violence between parents harms children \
even when they are not hit themselves.

## In the Czech Republic
- The police can order a violent person to leave your shared home for 10 days, even if the \
home is theirs. An intervention centre then contacts you and offers help.""",
    ),
    "leaflet_counselling": (
        "Where to get legal and social counselling",
        """## Who can help
- Crisis centres and women's organisations: a psychologist, a lawyer, help to find a safe \
place to stay, someone to go with you to the police or to court.
- Organisations for migrants: advice on residence permits, visas, work and documents, often \
in several languages or with an interpreter.
- Helplines: advice by phone, also at night and without giving your name (the numbers are on \
this leaflet).
- In the Czech Republic every region has an intervention centre that helps free of charge \
after violence at home.

## What to ask
- Can I get advice in my language, or with an interpreter?
- Is the advice free? (At non-profit organisations it usually is.)
- What happens to my residence permit if I leave?
- How can I protect my children?
- How can I get my documents back?

## Before you go
- Write down the questions you want to ask and, if you can, take copies of your documents.
- If it is not safe to keep this leaflet, learn the number by heart and throw the leaflet \
away.""",
    ),
}
