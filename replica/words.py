"""Word lists and paired English/Russian sentence templates for the replica's generated news.

Every template exists in both languages and takes the same slots, so one abstract article
renders as an English page on pacsto.org and as its Russian twin (same slug) on paodkb.org.
Russian templates only use slot forms that agree grammatically (``{p.a}`` is the feminine
verb ending, ``{c.ru_short_prep}`` the prepositional case and so on).
"""

from __future__ import annotations

from types import SimpleNamespace as NS

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS_RU_GEN = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
MONTHS_RU_NOM = (
    "Январь",
    "Февраль",
    "Март",
    "Апрель",
    "Май",
    "Июнь",
    "Июль",
    "Август",
    "Сентябрь",
    "Октябрь",
    "Ноябрь",
    "Декабрь",
)


def _person(en, ru, role_en, role_ru, female=False):
    return NS(en=en, ru=ru, role_en=role_en, role_ru=role_ru, a="а" if female else "")


PERSONS = (
    _person(
        "Vyacheslav Volodin",
        "Вячеслав Володин",
        "Chairman of the CSTO Parliamentary Assembly",
        "председатель Парламентской Ассамблеи ОДКБ",
    ),
    _person(
        "Sergei Pospelov", "Сергей Поспелов", "Executive Secretary of the CSTO PA", "ответственный секретарь ПА ОДКБ"
    ),
    _person(
        "Valentina Matviyenko",
        "Валентина Матвиенко",
        "Chairwoman of the Federation Council",
        "председатель Совета Федерации",
        female=True,
    ),
    _person(
        "Nurlan Nigmatulin",
        "Нурлан Нигматулин",
        "Chairman of the Mazhilis of the Parliament of Kazakhstan",
        "председатель Мажилиса Парламента Казахстана",
    ),
    _person(
        "Igor Sergeenko",
        "Игорь Сергеенко",
        "Chairman of the House of Representatives of Belarus",
        "председатель Палаты представителей Национального собрания Беларуси",
    ),
    _person(
        "Nurlanbek Shakiev",
        "Нурланбек Шакиев",
        "Speaker of the Jogorku Kenesh of the Kyrgyz Republic",
        "торага Жогорку Кенеша Кыргызской Республики",
    ),
    _person(
        "Mahmadtoir Zokirzoda",
        "Махмадтоир Зокирзода",
        "Chairman of the Majlisi Namoyandagon of Tajikistan",
        "председатель Маджлиси намояндагон Маджлиси Оли Таджикистана",
    ),
    _person(
        "Andrei Kartapolov",
        "Андрей Картаполов",
        "Chairman of the State Duma Defence Committee",
        "председатель Комитета Государственной Думы по обороне",
    ),
    _person(
        "Irina Yarovaya",
        "Ирина Яровая",
        "Deputy Chairwoman of the State Duma",
        "заместитель Председателя Государственной Думы",
        female=True,
    ),
    _person(
        "Leonid Slutsky",
        "Леонид Слуцкий",
        "Chairman of the State Duma Committee on International Affairs",
        "председатель Комитета Государственной Думы по международным делам",
    ),
    _person(
        "Konstantin Kosachev",
        "Константин Косачев",
        "Deputy Chairman of the Federation Council",
        "заместитель Председателя Совета Федерации",
    ),
    _person(
        "Maulen Ashimbayev",
        "Маулен Ашимбаев",
        "Chairman of the Senate of the Parliament of Kazakhstan",
        "председатель Сената Парламента Казахстана",
    ),
    _person(
        "Rustam Emomali",
        "Рустам Эмомали",
        "Chairman of the Majlisi Milli of Tajikistan",
        "председатель Маджлиси милли Маджлиси Оли Таджикистана",
    ),
    _person(
        "Natalya Kochanova",
        "Наталья Кочанова",
        "Chairwoman of the Council of the Republic of Belarus",
        "председатель Совета Республики Национального собрания Беларуси",
        female=True,
    ),
)


def _city(en, ru, ru_prep):
    return NS(en=en, ru=ru, ru_prep=ru_prep)


CAPITALS = {
    "belarus": _city("Minsk", "Минск", "Минске"),
    "kazakhstan": _city("Astana", "Астана", "Астане"),
    "kyrgyzstan": _city("Bishkek", "Бишкек", "Бишкеке"),
    "russia": _city("Moscow", "Москва", "Москве"),
    "tajikistan": _city("Dushanbe", "Душанбе", "Душанбе"),
}
CITIES = tuple(CAPITALS.values()) + (
    _city("St. Petersburg", "Санкт-Петербург", "Санкт-Петербурге"),
    _city("Almaty", "Алматы", "Алматы"),
    _city("Cholpon-Ata", "Чолпон-Ата", "Чолпон-Ате"),
    _city("Brest", "Брест", "Бресте"),
    _city("Kazan", "Казань", "Казани"),
    _city("Khujand", "Худжанд", "Худжанде"),
    _city("Sochi", "Сочи", "Сочи"),
)


def _country(key, en, short_en, adj_en, ru, ru_gen, ru_short, ru_short_gen, ru_short_prep, adj_ru_acc, adj_ru):
    return NS(
        key=key,
        en=en,
        short_en=short_en,
        adj_en=adj_en,
        ru=ru,
        ru_gen=ru_gen,
        ru_short=ru_short,
        ru_short_gen=ru_short_gen,
        ru_short_prep=ru_short_prep,
        adj_ru_acc=adj_ru_acc,
        adj_ru=adj_ru,
    )


COUNTRIES = (
    _country(
        "belarus",
        "the Republic of Belarus",
        "Belarus",
        "Belarusian",
        "Республика Беларусь",
        "Республики Беларусь",
        "Беларусь",
        "Беларуси",
        "Беларуси",
        "белорусскую",
        "белорусский",
    ),
    _country(
        "kazakhstan",
        "the Republic of Kazakhstan",
        "Kazakhstan",
        "Kazakh",
        "Республика Казахстан",
        "Республики Казахстан",
        "Казахстан",
        "Казахстана",
        "Казахстане",
        "казахстанскую",
        "казахстанский",
    ),
    _country(
        "kyrgyzstan",
        "the Kyrgyz Republic",
        "Kyrgyzstan",
        "Kyrgyz",
        "Кыргызская Республика",
        "Кыргызской Республики",
        "Кыргызстан",
        "Кыргызстана",
        "Кыргызстане",
        "кыргызскую",
        "кыргызский",
    ),
    _country(
        "russia",
        "the Russian Federation",
        "Russia",
        "Russian",
        "Российская Федерация",
        "Российской Федерации",
        "Россия",
        "России",
        "России",
        "российскую",
        "российский",
    ),
    _country(
        "tajikistan",
        "the Republic of Tajikistan",
        "Tajikistan",
        "Tajik",
        "Республика Таджикистан",
        "Республики Таджикистан",
        "Таджикистан",
        "Таджикистана",
        "Таджикистане",
        "таджикскую",
        "таджикский",
    ),
)

COMMISSIONS = (
    NS(
        en="Standing Commission on Defence and Security Issues",
        ru="Постоянная комиссия ПА ОДКБ по вопросам обороны и безопасности",
        ru_gen="Постоянной комиссии ПА ОДКБ по вопросам обороны и безопасности",
    ),
    NS(
        en="Standing Commission on Political Affairs and International Cooperation",
        ru="Постоянная комиссия ПА ОДКБ по политическим вопросам и международному сотрудничеству",
        ru_gen="Постоянной комиссии ПА ОДКБ по политическим вопросам и международному сотрудничеству",
    ),
    NS(
        en="Standing Commission on Social and Economic Issues and Law",
        ru="Постоянная комиссия ПА ОДКБ по социально-экономическим и правовым вопросам",
        ru_gen="Постоянной комиссии ПА ОДКБ по социально-экономическим и правовым вопросам",
    ),
)

LAWS = (
    NS(en="on countering international terrorism", ru="о противодействии международному терроризму"),
    NS(en="on information security", ru="об информационной безопасности"),
    NS(en="on biological safety", ru="о биологической безопасности"),
    NS(en="on countering the financing of terrorism", ru="о противодействии финансированию терроризма"),
    NS(en="on peacekeeping activities", ru="о миротворческой деятельности"),
    NS(en="on countering illicit drug trafficking", ru="о противодействии незаконному обороту наркотиков"),
    NS(en="on military cooperation", ru="о военном сотрудничестве"),
    NS(en="on the protection of critical infrastructure", ru="о защите критически важных объектов"),
    NS(en="on countering extremism", ru="о противодействии экстремизму"),
    NS(en="on emergency response", ru="о реагировании на чрезвычайные ситуации"),
    NS(en="on countering cybercrime", ru="о противодействии киберпреступности"),
    NS(en="on the status of military personnel", ru="о статусе военнослужащих"),
    NS(en="on countering illegal migration", ru="о противодействии нелегальной миграции"),
    NS(en="on border security", ru="о безопасности государственной границы"),
)

ORGS = (
    NS(
        en="the CIS Inter-Parliamentary Assembly",
        ru="Межпарламентская Ассамблея СНГ",
        ru_gen="Межпарламентской Ассамблеи СНГ",
    ),
    NS(en="the CSTO Secretariat", ru="Секретариат ОДКБ", ru_gen="Секретариата ОДКБ"),
    NS(en="the CSTO Joint Staff", ru="Объединенный штаб ОДКБ", ru_gen="Объединенного штаба ОДКБ"),
    NS(
        en="the Parliamentary Assembly of the Union State",
        ru="Парламентское Собрание Союза Беларуси и России",
        ru_gen="Парламентского Собрания Союза Беларуси и России",
    ),
    NS(
        en="the Eurasian Economic Commission",
        ru="Евразийская экономическая комиссия",
        ru_gen="Евразийской экономической комиссии",
    ),
    NS(
        en="the CIS Anti-Terrorism Centre",
        ru="Антитеррористический центр СНГ",
        ru_gen="Антитеррористического центра СНГ",
    ),
)

EXERCISES = (
    NS(en="Interaction", ru="Взаимодействие"),
    NS(en="Search", ru="Поиск"),
    NS(en="Echelon", ru="Эшелон"),
    NS(en="Cobalt", ru="Кобальт"),
    NS(en="Indestructible Brotherhood", ru="Нерушимое братство"),
    NS(en="Rubezh", ru="Рубеж"),
)

ELECTIONS = (
    NS(en="parliamentary elections", ru_gen="парламентских выборов"),
    NS(en="presidential election", ru_gen="президентских выборов"),
    NS(en="national referendum", ru_gen="республиканского референдума"),
    NS(en="early parliamentary elections", ru_gen="досрочных парламентских выборов"),
    NS(en="local council elections", ru_gen="выборов в местные советы"),
)

# Russian forms are genitive: "в сфере ...", "по вопросам ...", "важность ...".
FIELDS = (
    NS(en="national security", ru="национальной безопасности"),
    NS(en="border protection", ru="охраны государственных границ"),
    NS(en="digital development", ru="цифрового развития"),
    NS(en="migration policy", ru="миграционной политики"),
    NS(en="public health", ru="охраны здоровья населения"),
    NS(en="energy security", ru="энергетической безопасности"),
    NS(en="media regulation", ru="регулирования средств массовой информации"),
    NS(en="food security", ru="продовольственной безопасности"),
)

# Article kinds: (title EN, title RU, lead sentence EN, lead sentence RU).
KINDS = {
    "commission": (
        "CSTO PA {com.en} discussed the model law {law.en}",
        "{com.ru} обсудила модельный закон {law.ru}",
        "On {d.en}, the CSTO PA {com.en} held a meeting in {city.en} chaired by {p.en}.",
        "{d.ru} в {city.ru_prep} состоялось заседание {com.ru_gen}, которое провел{p.a} {p.ru}.",
    ),
    "statement": (
        "{p.en}: the model law {law.en} will strengthen collective security",
        "{p.ru}: модельный закон {law.ru} укрепит коллективную безопасность",
        "Speaking in {city.en} on {d.en}, {p.en} said that the model law {law.en} will become a basis "
        "for national legislation.",
        "Выступая {d.ru} в {city.ru_prep}, {p.ru} заявил{p.a}, что модельный закон {law.ru} станет основой "
        "для национального законодательства.",
    ),
    "observation": (
        "CSTO PA observers monitored the {elec.en} in {c.short_en}",
        "Наблюдатели ПА ОДКБ провели мониторинг {elec.ru_gen} в {c.ru_short_prep}",
        "On {d.en}, the group of CSTO PA international observers led by {p.en} began its work in {c.short_en}.",
        "{d.ru} в {c.ru_short_prep} начала работу группа международных наблюдателей ПА ОДКБ, которую "
        "возглавляет {p.ru}.",
    ),
    "exercise": (
        "CSTO parliamentarians observed the {ex.en}-{year} joint exercise in {c.short_en}",
        "Парламентарии ОДКБ наблюдали за совместным учением «{ex.ru}-{year}» в {c.ru_short_prep}",
        "On {d.en}, members of the CSTO Parliamentary Assembly observed the active phase of the {ex.en}-{year} "
        "joint exercise near {city.en}.",
        "{d.ru} члены Парламентской Ассамблеи ОДКБ наблюдали за активной фазой совместного учения "
        "«{ex.ru}-{year}» в районе города {city.ru}.",
    ),
    "council": (
        "{p.en} chaired the CSTO PA Council meeting in {city.en}",
        "{p.ru} провел{p.a} заседание Совета ПА ОДКБ в {city.ru_prep}",
        "On {d.en}, {city.en} hosted a meeting of the CSTO PA Council chaired by {p.en}.",
        "{d.ru} в {city.ru_prep} прошло заседание Совета ПА ОДКБ, которое провел{p.a} {p.ru}.",
    ),
    "cooperation": (
        "The CSTO PA and {org.en} agreed on a cooperation plan for {ynext}",
        "ПА ОДКБ и {org.ru} согласовали план сотрудничества на {ynext} год",
        "On {d.en}, {p.en} held talks in {city.en} with a delegation of {org.en}.",
        "{d.ru} в {city.ru_prep} {p.ru} провел{p.a} переговоры с делегацией {org.ru_gen}.",
    ),
}

# Body sentences (EN, RU). Slots: p, p2 (persons), c, c2 (countries), city, city2, com, law, law2,
# org, field, n (3-6), n5 (5-9), big10 (multiple of 10), big (10-300), pct, year, yprev, ynext, d, d2.
SENTENCES = (
    (
        "{p.en}, {p.role_en}, noted that the Assembly pays special attention to the harmonization of national "
        "legislation of the CSTO member states.",
        "{p.ru}, {p.role_ru}, отметил{p.a}, что Ассамблея уделяет особое внимание гармонизации национального "
        "законодательства государств – членов ОДКБ.",
    ),
    (
        "The participants discussed the draft model law {law2.en}, which is to be submitted to the plenary session "
        "in {ynext}.",
        "Участники обсудили проект модельного закона {law2.ru}, который планируется внести на пленарное заседание "
        "в {ynext} году.",
    ),
    (
        "As {p2.en} noted, the document takes into account the experience of {c2.short_en} and the recommendations "
        "of {org.en}.",
        "Как отметил{p2.a} {p2.ru}, документ учитывает опыт {c2.ru_short_gen} и рекомендации {org.ru_gen}.",
    ),
    (
        "The meeting was attended by the delegations of {n} states and representatives of {org.en}.",
        "В заседании приняли участие делегации {n} государств и представители {org.ru_gen}.",
    ),
    (
        "Experts estimate that the number of cyberattacks on government information systems in the region grew "
        "by {pct}% in {yprev}.",
        "По оценкам экспертов, число кибератак на государственные информационные системы в регионе выросло "
        "в {yprev} году на {pct}%.",
    ),
    (
        "The Commission recommended that the national parliaments speed up the ratification of the agreements "
        "signed in {yprev}.",
        "Комиссия рекомендовала национальным парламентам ускорить ратификацию соглашений, подписанных в {yprev} году.",
    ),
    (
        "{p2.en} proposed to hold the next meeting in {city2.en} in the autumn of {ynext}.",
        "{p2.ru} предложил{p2.a} провести следующее заседание в {city2.ru_prep} осенью {ynext} года.",
    ),
    (
        "The delegation of {c2.en} presented a report on the implementation of the model law {law.en}.",
        "Делегация {c2.ru_gen} представила доклад о реализации модельного закона {law.ru}.",
    ),
    (
        "Special attention was paid to countering the recruitment of young people by international terrorist "
        "organizations.",
        "Особое внимание было уделено противодействию вербовке молодежи международными террористическими "
        "организациями.",
    ),
    (
        "The parliamentarians visited a training ground in the vicinity of {city2.en} and talked to the servicemen "
        "of the collective forces.",
        "Парламентарии посетили учебный полигон в окрестностях города {city2.ru} и побеседовали "
        "с военнослужащими коллективных сил.",
    ),
    (
        "Over the past {n5} years, the Assembly has adopted more than {big10} model laws and recommendations.",
        "За последние {n5} лет Ассамблея приняла более {big10} модельных законов и рекомендаций.",
    ),
    (
        "The sides agreed to exchange information on legislative initiatives in the field of {field.en}.",
        "Стороны договорились обмениваться информацией о законодательных инициативах в сфере {field.ru}.",
    ),
    (
        "{p.en} thanked the {c2.adj_en} side for the warm welcome and the excellent organization of the event.",
        "{p.ru} поблагодарил{p.a} {c2.adj_ru_acc} сторону за теплый прием и прекрасную организацию мероприятия.",
    ),
    (
        "On {d2.en}, the working group will meet again to finalize the text of the document.",
        "{d2.ru} рабочая группа вновь соберется, чтобы доработать текст документа.",
    ),
    (
        "As you may recall, the CSTO Parliamentary Assembly was established on 16 November 2006.",
        "Напомним, Парламентская Ассамблея ОДКБ была учреждена 16 ноября 2006 года.",
    ),
    (
        "The draft provides for {n5} new mechanisms of cooperation between the law enforcement agencies of the "
        "member states.",
        "Проект предусматривает {n5} новых механизмов взаимодействия правоохранительных органов государств-членов.",
    ),
    (
        "In {c2.short_en}, a similar law entered into force in {yprev}, and its application has already produced "
        "results.",
        "В {c2.ru_short_prep} аналогичный закон вступил в силу в {yprev} году, и практика его применения уже "
        "дает результаты.",
    ),
    (
        "The participants also considered the CSTO PA action plan for {ynext} and the schedule of monitoring missions.",
        "Участники также рассмотрели план мероприятий ПА ОДКБ на {ynext} год и график мониторинговых миссий.",
    ),
    (
        "{p2.en}, {p2.role_en}, stressed that no country can cope with modern challenges alone.",
        "{p2.ru}, {p2.role_ru}, подчеркнул{p2.a}, что ни одна страна не может в одиночку справиться "
        "с современными вызовами.",
    ),
    (
        "The event brought together more than {big10} participants, including members of parliament, diplomats "
        "and experts.",
        "В мероприятии приняли участие более {big10} человек, в том числе парламентарии, дипломаты и эксперты.",
    ),
    (
        "The {com.en} will prepare proposals on the results of the discussion by {d2.en}.",
        "По итогам обсуждения {com.ru} подготовит предложения к {d2.ru}.",
    ),
    (
        "The ministries of defence and emergency situations of {c.short_en} and {c2.short_en} took part in "
        "preparing the draft.",
        "В подготовке проекта приняли участие министерства обороны и по чрезвычайным ситуациям {c.ru_short_gen} "
        "и {c2.ru_short_gen}.",
    ),
    (
        "Members of the Assembly also discussed the situation on the external borders of the Organization.",
        "Члены Ассамблеи также обсудили ситуацию на внешних границах Организации.",
    ),
    (
        "{p.en} invited colleagues to take part in the international conference in {city2.en} on {d2.en}.",
        "{p.ru} пригласил{p.a} коллег принять участие в международной конференции в {city2.ru_prep} {d2.ru}.",
    ),
    (
        "The recommendations are based on the results of monitoring conducted in {n} member states in {yprev}.",
        "Рекомендации основаны на результатах мониторинга, проведенного в {n} государствах-членах в {yprev} году.",
    ),
    (
        "According to the organizers, the budget of the joint programme for {ynext} amounts to {big} million roubles.",
        "По данным организаторов, бюджет совместной программы на {ynext} год составляет {big} млн рублей.",
    ),
    (
        "The observers visited more than {big10} polling stations and noted that voting was held in a calm atmosphere.",
        "Наблюдатели посетили более {big10} избирательных участков и отметили, что голосование проходило "
        "в спокойной обстановке.",
    ),
    (
        "Representatives of {org.en} presented an analytical report on the situation in Central Asia.",
        "Представители {org.ru_gen} представили аналитический доклад о ситуации в Центральной Азии.",
    ),
    (
        "The draft model law {law2.en} was approved at first reading and sent to the national parliaments for review.",
        "Проект модельного закона {law2.ru} одобрен в первом чтении и направлен в национальные парламенты "
        "для рассмотрения.",
    ),
    (
        "{p2.en} recalled that in {yprev} the parliaments of {c.short_en} and {c2.short_en} ratified the agreement "
        "on joint training of personnel.",
        "{p2.ru} напомнил{p2.a}, что в {yprev} году парламенты {c.ru_short_gen} и {c2.ru_short_gen} "
        "ратифицировали соглашение о совместной подготовке кадров.",
    ),
    (
        "The Assembly's monitoring group will present its conclusions at the session of the CSTO PA Council in "
        "{city2.en}.",
        "Мониторинговая группа Ассамблеи представит свои выводы на заседании Совета ПА ОДКБ в {city2.ru_prep}.",
    ),
    (
        "A round table on {field.en} was held on the sidelines of the meeting with the participation of {n5} experts.",
        "На полях заседания состоялся круглый стол по вопросам {field.ru} с участием {n5} экспертов.",
    ),
    (
        "The parties noted the importance of {field.en} for the stability of the whole region.",
        "Стороны отметили важность {field.ru} для стабильности всего региона.",
    ),
    (
        "{p.en} said that the {c.adj_en} parliament had already drafted {n5} bills based on the model law {law.en}.",
        "{p.ru} сообщил{p.a}, что {c.adj_ru} парламент уже подготовил {n5} законопроектов на основе модельного "
        "закона {law.ru}.",
    ),
)

TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
