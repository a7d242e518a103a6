"""Shipped help texts in Czech."""

TEXTS = {
    "safety_note": (
        "Vaše bezpečí",
        "Tento web neukládá cookies a na nic se vás neptá. Prohlížeč si ale pamatuje otevřené "
        "stránky: pokud tento telefon nebo počítač používá ještě někdo jiný, otevřete web v "
        "anonymním okně, nebo tyto stránky potom smažte z historie. Chcete-li rychle odejít, "
        "stiskněte Esc nebo „Opustit stránku“.",
    ),
    "home_intro": (
        "Najděte pomoc ve svém okolí",
        "Pokud jste právě teď v nebezpečí, volejte číslo tísňového volání země, ve které se "
        "nacházíte (čísla najdete níže).\n\n"
        "Násilí doma nikdy není vaše vina. Pomoc můžete dostat bez ohledu na státní občanství "
        "a pobytový status: radu po telefonu, právníka, psychologa nebo bezpečné místo k "
        "pobytu. Vyberte zemi a region, kde se nacházíte, a uvidíte, kdo vám tam může pomoci.",
    ),
    "safety": (
        "Bezpečí na internetu",
        """## Pokud vám někdo kontroluje telefon nebo počítač
- Používejte anonymní okno (režim inkognito): po jeho zavření v něm nezůstane žádná historie.
- Pokud to nešlo, smažte stránky tohoto webu z historie prohlížeče. Smazání celé historie \
může vzbudit pozornost; smazání jen těchto stránek je méně nápadné.
- Přes sdílené účty a aplikace může někdo číst vaše zprávy a vidět vaše hovory i to, kde \
jste. Pokud máte takové podezření, použijte telefon nebo počítač, ke kterému ten člověk nemá \
přístup: u kamarádky, v práci nebo v knihovně.

## Jak rychle odejít
- Stiskněte Esc nebo tlačítko „Opustit stránku“ nahoře na každé stránce: stránku nahradí \
neutrální web a tlačítko Zpět ji nevrátí.
- Bez JavaScriptu tlačítko funguje jako běžný odkaz, ale tlačítko Zpět vás pak může vrátit \
sem.

## Co tento web ukládá a co ne
- Neukládá cookies a neptá se na jméno, telefonní číslo ani e-mail.
- Nenačítá nic z jiných webů, takže se o vaší návštěvě žádná jiná firma nedozví.
- Váš poskytovatel internetu a ten, kdo spravuje síť, ve které jste (například v práci), \
mohou vidět, které weby se otevírají.""",
    ),
    "leaflet_emergency": (
        "Co dělat v nouzi",
        """## Pokud jste právě teď v nebezpečí
- Volejte číslo tísňového volání země, ve které se nacházíte (čísla jsou v rámečku). Volání \
na tato čísla je zdarma.
- Řekněte, kde jste, co se děje a zda je někdo zraněný, i děti.
- Pokud můžete, jděte na bezpečnější místo: do místnosti, odkud se dá odejít a kde je \
telefon. Držte se dál od kuchyně a od míst, kde jsou nože nebo jiné věci, které lze použít \
jako zbraň.
- Pokud jste zraněná, jděte k lékaři nebo do nemocnice a řekněte, jak ke zranění došlo. \
Požádejte, aby všechna zranění zapsali: záznam vám může později pomoci.

## Připravte se na odchod
- Pokud je to bezpečné, mějte připravenou tašku, nebo ji nechte u člověka, kterému \
důvěřujete: pas, povolení k pobytu nebo vízum, rodné listy a doklady dětí, léky, peníze a \
platební karty, klíče, telefon a nabíječku.
- Kopie nebo fotografie dokladů mějte tam, kde je druhý člověk nenajde: například u \
kamarádky nebo v e-mailu, který můžete otevřít jen vy.
- Domluvte se s člověkem, kterému důvěřujete, na heslu: když ho uslyší, zavolá pomoc.
- Naučte se nazpaměť jedno nebo dvě telefonní čísla, na která můžete zavolat.

## Po nouzové situaci
- Krizová centra a linky pomoci vám pomohou naplánovat vaše bezpečí, najít bezpečné bydlení \
a získat právní radu. Jejich pomoc je obvykle zdarma a po telefonu obvykle nemusíte říkat své \
jméno.""",
    ),
    "leaflet_rights": (
        "Vaše práva bez ohledu na pobytový status",
        """- Fyzické a sexuální násilí a vyhrožování jsou protiprávní, i v manželství a v rodině. \
Kontrola, ponižování a odebírání peněz nebo dokladů jsou také násilím a poradci vám pomohou i \
s tím.
- Policii a záchrannou službu můžete volat bez ohledu na státní občanství a pobytový status.
- Neodkladnou lékařskou péči musí dostat každý, kdo ji potřebuje.
- Když se obracíte na policii nebo se účastníte soudního řízení, můžete požádat o tlumočníka \
do svého jazyka.
- Váš pas a doklady k pobytu patří vám. Nikdo – ani manžel, ani jeho rodina, ani zaměstnavatel \
– vám je nesmí zadržovat. Pokud se to děje, řekněte to v poradně nebo na policii.
- Pokud vaše právo k pobytu závisí na manželovi nebo partnerovi, odchod od násilí nemusí \
znamenat ztrátu tohoto práva. V Evropské unii zákon oběti domácího násilí v takové situaci \
chrání. Poraďte se s právníkem nebo s poradnou pro migranty dříve, než vám povolení vyprší, a \
dříve, než cokoli podepíšete.
- Radu můžete dostat bez udání jména a dříve, než se k čemukoli rozhodnete. Poradny \
neziskových organizací nejsou policie ani úřad pro cizince.
- Vaše děti mají také právo na ochranu. Násilí mezi rodiči dětem škodí, i když samy bity \
nejsou.

## V České republice
- Policie může násilnou osobu vykázat ze společného obydlí na 10 dní, i když jí byt patří. \
Potom vás kontaktuje intervenční centrum a nabídne vám pomoc.""",
    ),
    "leaflet_counselling": (
        "Kde získat právní a sociální poradenství",
        """## Kdo vám může pomoci
- Krizová centra a ženské organizace: psycholog, právník, pomoc s bezpečným bydlením, \
doprovod na policii nebo k soudu.
- Organizace pro migranty: poradenství k povolení k pobytu, vízům, práci a dokladům, často v \
několika jazycích nebo s tlumočníkem.
- Linky pomoci: rada po telefonu, i v noci a bez udání jména (čísla najdete v tomto letáku).
- V České republice je v každém kraji intervenční centrum, které po domácím násilí pomáhá \
zdarma.

## Na co se zeptat
- Mohu dostat radu ve svém jazyce nebo s tlumočníkem?
- Je poradenství zdarma? (U neziskových organizací obvykle ano.)
- Co bude s mým povolením k pobytu, když odejdu?
- Jak ochránit své děti?
- Jak získat zpět své doklady?

## Před schůzkou
- Zapište si otázky, které chcete položit, a pokud můžete, vezměte si kopie dokladů.
- Pokud není bezpečné mít tento leták u sebe, naučte se číslo nazpaměť a leták vyhoďte.""",
    ),
}
