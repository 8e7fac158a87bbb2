# ruff: noqa: E501
"""Hand-written sentence pools for expert profiles, per language.

Placeholders: {Title} / {title} (job title, capitalised or not), {a_title} (English, with
article), {city}, {ocity} (home town), {year} (arrival year), {years} (years of experience),
{country}, {in_country}, {of_country}, {skill1}..{skill3}. "[[masc|fem]]" picks by gender.
"""

OPENINGS: dict[str, list[str]] = {
    "en": [
        "{Title} based in {city}.",
        "I'm {a_title} in {city} with {years} years of experience.",
        "{Title} with {years} years of practice, currently living in {city}.",
        "I work as {a_title} in {city}.",
        "Born and raised in {ocity}, I have lived in {city} since {year} and work as {a_title}.",
        "I trained in {country} and moved to {city} in {year}; I now work as {a_title}.",
        "{years} years as {a_title}, the last few in {city}.",
    ],
    "fr": [
        "{Title}, [[installé|installée]] à {city} depuis {year}.",
        "Je suis {title} à {city}, avec {years} ans d'expérience.",
        "{years} ans d'expérience comme {title}, aujourd'hui à {city}.",
        "Originaire de {ocity}, je vis à {city} depuis {year} et j'exerce comme {title}.",
        "J'exerce comme {title} à {city}.",
        "Après des études {in_country}, je suis [[parti|partie]] à {city} en {year}, où je travaille comme {title}.",
    ],
    "es": [
        "Soy {title} y vivo en {city} desde {year}.",
        "{Title} con {years} años de experiencia, [[radicado|radicada]] en {city}.",
        "Nací en {ocity} y trabajo como {title} en {city}.",
        "Trabajo como {title} en {city}; llevo {years} años en la profesión.",
        "Me formé en {country} y desde {year} trabajo en {city} como {title}.",
    ],
    "pt": [
        "Sou {title} e vivo em {city} desde {year}.",
        "{Title} com {years} anos de experiência, a viver em {city}.",
        "Nasci em {ocity} e trabalho como {title} em {city}.",
        "Trabalho como {title} em {city} há vários anos.",
        "Formei-me {in_country} e mudei-me para {city} em {year}, onde trabalho como {title}.",
    ],
    "ar": [
        "{Title} [[مقيم|مقيمة]] في {city} منذ {year}.",
        "أنا {title} من {ocity}، أعيش في {city} منذ سنة {year}.",
        "{Title} بخبرة تفوق {years} سنة، أعمل حاليًا في {city}.",
        "خبرتي {years} سنة ك{title}، وأعيش في {city}.",
        "درست في {country} ثم انتقلت إلى {city} سنة {year} حيث أعمل ك{title}.",
    ],
}

MOTIVATIONS: dict[str, list[str]] = {
    "en": [
        "I would like to give back to {country}, where I trained before moving abroad.",
        "I go back to {ocity} every year and would love to turn those visits into something useful.",
        "I'm especially interested in mentoring young professionals in {country}.",
        "My parents still live in {ocity} and I've always wanted to work with institutions there.",
        "Open to co-teaching, reviewing curricula or supervising students online.",
        "Happy to help remotely; a short mission is possible if it is planned well ahead.",
        "Keen to support hospitals and universities back home without relocating for good.",
    ],
    "fr": [
        "J'ai fait mes études à {ocity} et j'aimerais rendre un peu de ce que j'ai reçu.",
        "Je rentre {in_country} au moins une fois par an et je souhaite que ces séjours servent à quelque chose.",
        "Je veux contribuer au développement {of_country} sans forcément y retourner définitivement.",
        "Très [[motivé|motivée]] pour accompagner des jeunes professionnels {in_country}.",
        "Disponible pour de l'enseignement à distance ; des missions courtes sont possibles pendant mes congés.",
        "Intéressé[[|e]] par le co-encadrement d'étudiants et les échanges entre équipes.",
    ],
    "es": [
        "Quiero aportar a {country} desde donde estoy.",
        "Me interesa mucho la docencia a distancia y la mentoría de jóvenes profesionales.",
        "Vuelvo a {ocity} cada año y me gustaría que esas visitas fueran útiles.",
        "Puedo hacer misiones cortas en vacaciones si se planean con tiempo.",
        "Me encantaría colaborar con universidades y hospitales de mi región.",
    ],
    "pt": [
        "Gostaria de contribuir para o desenvolvimento {of_country}.",
        "Vou a {ocity} todos os anos e gostava de tornar essas visitas mais úteis.",
        "Disponível para ensino a distância e missões curtas nas férias.",
        "Tenho muito interesse em orientar jovens profissionais {in_country}.",
        "Quero manter a ligação ao meu país e partilhar o que aprendi lá fora.",
    ],
    "ar": [
        "أرغب في المساهمة في تنمية بلدي {country} من خلال نقل خبرتي.",
        "أزور {ocity} كل سنة وأتمنى أن تكون هذه الزيارات مفيدة أكثر.",
        "[[مستعد|مستعدة]] للتدريس عن بعد وللقيام بمهام قصيرة خلال العطل.",
        "يهمني كثيرًا تأطير الشباب والطلبة في {country}.",
        "أحب أن أساهم في تكوين الكفاءات في المستشفيات والجامعات هناك.",
    ],
}

HEADLINES: dict[str, list[str]] = {
    "en": [
        "{Title} | {skill1}, {skill2}",
        "{Title} in {city}",
        "{Title}",
        "{Title}, {years} yrs, {skill1}",
        "{title} ({city})",
        "{Title} · {skill1} · {skill2} · {skill3}",
        "{Title} – {skill1} and {skill2}",
    ],
    "fr": [
        "{Title} | {skill1}, {skill2}",
        "{Title} à {city}",
        "{Title}",
        "{Title} – {years} ans d'expérience",
        "{Title} · {skill1} · {skill2}",
        "{title}, {skill1}",
    ],
    "es": [
        "{Title} | {skill1} y {skill2}",
        "{Title} en {city}",
        "{Title}",
        "{Title} – {years} años de experiencia",
        "{Title} · {skill1} · {skill2}",
    ],
    "pt": [
        "{Title} | {skill1}, {skill2}",
        "{Title} em {city}",
        "{Title}",
        "{Title} – {years} anos de experiência",
        "{Title} · {skill1} · {skill2}",
    ],
    "ar": [
        "{Title} | {skill1}، {skill2}",
        "{Title} في {city}",
        "{Title}",
        "{Title} - خبرة {years} سنة",
        "{Title} · {skill1} · {skill2}",
    ],
}

# a typo now and then, the way people really type (accents dropped, letters swapped)
TYPOS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("experience", "experiance"),
        ("teaching", "teching"),
        ("remotely", "remotly"),
        ("which", "wich"),
        ("professionals", "proffesionals"),
        ("currently", "curently"),
        ("would", "woud"),
    ],
    "fr": [
        ("expérience", "experience"),
        ("à distance", "a distance"),
        ("j'aimerais", "j'aimerai"),
        ("développement", "dévelopement"),
        ("études", "etudes"),
        ("définitivement", "définitivemment"),
    ],
    "es": [
        ("también", "tambien"),
        ("investigación", "investigacion"),
        ("años", "anos"),
        ("misiones", "mjsiones"),
        ("vacaciones", "vaciones"),
        ("profesión", "profesion"),
    ],
    "pt": [
        ("experiência", "experiencia"),
        ("também", "tambem"),
        ("distância", "distancia"),
        ("Disponível", "Disponivel"),
    ],
    "ar": [("إلى", "الى"), ("أن", "ان"), ("أعمل", "اعمل"), ("أعيش", "اعيش")],
}

# related professions: an expert sometimes lists skills from one of these too
RELATED: dict[str, list[str]] = {
    "epi": ["phd", "data", "pubhealth"],
    "pubhealth": ["epi", "economics"],
    "surgery": ["teaching"],
    "nursing": ["teaching"],
    "radiology": ["teaching"],
    "pediatrics": ["pubhealth"],
    "obgyn": ["nursing"],
    "lab": ["pubhealth"],
    "mental": ["teaching"],
    "biomed": ["energy"],
    "civil": ["architecture", "phd"],
    "water": ["environment", "civil"],
    "energy": ["phd"],
    "software": ["data", "entrepreneurship"],
    "data": ["phd", "software"],
    "cyber": ["software"],
    "agro": ["agrifood", "phd", "environment"],
    "agrifood": ["entrepreneurship"],
    "finance": ["entrepreneurship"],
    "audit": ["finance"],
    "law": ["justice"],
    "justice": ["law"],
    "teaching": ["phd"],
    "phd": ["teaching"],
    "egov": ["software"],
    "entrepreneurship": ["finance"],
    "architecture": ["civil"],
    "environment": ["water"],
    "economics": ["phd"],
}
