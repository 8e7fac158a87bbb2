# ruff: noqa: E501
"""Hand-written engagement scenarios that put the demo world at every stage.

expert: an anchor key (see _anchors.py) or None to let build_world.py pick the best-fitting
expert of the need's profession who speaks its languages (same origin country first).
Dates are given for stages where they are agreed; feedback for completed engagements.
"""


def fb(rating, delivered, hours, would_repeat, impact):
    return {
        "rating": rating,
        "delivered": delivered,
        "hours": hours,
        "would_repeat": would_repeat,
        "impact": impact,
    }


E = dict

ENGAGEMENTS: list[dict] = [
    # --- Dakar faculty of medicine: the demo institution -----------------------------------
    E(need="sn-epi-module", stage="offered", expert="awa", start="2027-02-02", end="2027-03-13"),
    E(need="sn-epi-module", stage="proposed", expert=None),
    E(
        need="sn-epi-module",
        stage="rejected",
        expert=None,
        reason="Bon profil, mais aucune expérience d'enseignement et disponible seulement à partir de mai : le module commence en février.",
    ),
    E(
        need="sn-phd-cosup",
        stage="declined",
        expert="awa",
        start="2027-01-15",
        end="2027-12-17",
        reason="Merci pour la proposition ! Je n'ai pas encore d'HDR et je ne peux pas m'engager sur deux ans en ce moment. Je reste disponible pour des relectures ponctuelles.",
    ),
    E(need="sn-phd-cosup", stage="approved", expert=None),
    E(
        need="sn-echo-internes",
        stage="confirmed",
        expert=None,
        start="2027-01-11",
        end="2027-01-29",
    ),
    E(
        need="cm-biostat-r",
        stage="completed",
        expert="awa",
        start="2026-03-09",
        end="2026-04-17",
        expert_feedback=fb(
            5,
            "Huit séances en direct sur R (import, nettoyage, régression logistique, analyse de survie) et un jeu d'exercices corrigés laissé à l'équipe.",
            34,
            True,
            "Les huit enseignants utilisent maintenant R dans leurs TD ; deux d'entre eux ont refait seuls les analyses de leurs articles.",
        ),
        institution_feedback=fb(
            5,
            "Formation très concrète, avec nos propres données. Dr Ndiaye a répondu aux questions bien au-delà des séances prévues.",
            32,
            True,
            "Le premier module du master d'épidémiologie a été entièrement enseigné sous R en octobre 2026.",
        ),
    ),
    # --- Thiès, Saint-Louis, AMNA -----------------------------------------------------------
    E(
        need="sn-oxygene-maintenance",
        stage="active",
        expert="ibrahima-biomed",
        start="2026-11-02",
        end="2026-11-27",
    ),
    E(need="sn-etat-civil", stage="accepted", expert=None, start="2027-02-01", end="2027-04-23"),
    # --- Morocco ----------------------------------------------------------------------------
    E(
        need="ma-laparo-residents",
        stage="confirmed",
        expert="karim-surgeon",
        start="2027-02-01",
        end="2027-02-19",
    ),
    E(
        need="ma-teleradiologie",
        stage="active",
        expert="imane-radio",
        start="2026-09-01",
        end="2026-12-18",
    ),
    E(need="ma-pedopsy", stage="proposed", expert="zeina-psy"),
    E(
        need="ma-dessalement-module",
        stage="completed",
        expert="hicham-water",
        start="2026-03-02",
        end="2026-04-24",
        expert_feedback=fb(
            4,
            "Co-animation de 8 séances à distance, deux études de cas réelles (station de Chtouka, réutilisation à Marrakech) et un sujet d'examen.",
            26,
            True,
            "Trois élèves m'ont demandé des conseils pour leur stage ; l'un d'eux fait son PFE dans un bureau d'études sur le dessalement.",
        ),
        institution_feedback=fb(
            4,
            "Séances de grande qualité. La connexion a parfois été difficile, deux séances ont été reportées.",
            24,
            True,
            "Le module est reconduit en 2027 avec le même intervenant ; les supports sont intégrés à la maquette officielle.",
        ),
    ),
    E(
        need="ma-mentors-cohorte",
        stage="accepted",
        expert=None,
        start="2027-03-01",
        end="2027-06-18",
    ),
    E(
        need="ma-mentors-cohorte",
        stage="offered",
        expert=None,
        start="2027-03-01",
        end="2027-06-18",
    ),
    E(need="ma-argan-export", stage="proposed", expert=None),
    # --- Tunisia ----------------------------------------------------------------------------
    E(need="tn-neonat", stage="approved", expert="amira-neonat"),
    E(
        need="tn-devops-cours",
        stage="completed",
        expert=None,
        start="2026-02-07",
        end="2026-05-02",
        expert_feedback=fb(
            5,
            "Douze TP en direct le samedi, un projet fil rouge (API + CI/CD + déploiement sur conteneurs) et la correction des rendus.",
            38,
            True,
            "Les étudiants ont livré de vrais pipelines d'intégration continue ; deux équipes ont publié leur projet en open source.",
        ),
        institution_feedback=fb(
            5,
            "Excellent intervenant, très pédagogue et très proche de la réalité de l'industrie.",
            36,
            True,
            "Le taux de réussite au module est passé de 61 % à 83 % ; trois étudiants ont obtenu un stage grâce à son réseau.",
        ),
    ),
    E(
        need="tn-reuse-irrigation",
        stage="rejected",
        expert=None,
        reason="الخبير المقترح متخصص في شبكات التوزيع الحضرية ولا يملك خبرة في إعادة استعمال المياه في الري. نفضل المرشح الآخر.",
    ),
    E(need="tn-reuse-irrigation", stage="proposed", expert="walid-water"),
    # --- Lebanon ----------------------------------------------------------------------------
    E(
        need="lb-teleradiology",
        stage="active",
        expert="rami-radio",
        start="2026-10-01",
        end="2027-03-31",
    ),
    E(
        need="lb-staff-wellbeing",
        stage="completed",
        expert=None,
        start="2026-04-06",
        end="2026-06-12",
        expert_feedback=fb(
            4,
            "Trained five peer-support facilitators, supervised them weekly online and spent one week on site running the first groups.",
            44,
            True,
            "Peer support groups now meet every two weeks in three departments without me.",
        ),
        institution_feedback=fb(
            5,
            "Exactly what our staff needed. Sessions in Arabic made a real difference.",
            40,
            True,
            "Around 60 staff attended at least one group; sick leave in the emergency department dropped in the following quarter.",
        ),
    ),
    E(
        need="lb-solar-backup",
        stage="declined",
        expert=None,
        start="2027-02-15",
        end="2027-03-05",
        reason="I can't travel to Beirut in the first quarter for family reasons. Happy to review the specification remotely if that helps.",
    ),
    E(
        need="lb-coding-teachers",
        stage="offered",
        expert="fadi-soft",
        start="2027-01-18",
        end="2027-03-26",
    ),
    # --- Haiti ------------------------------------------------------------------------------
    E(
        need="ht-ortho-mission",
        stage="completed",
        expert="wilner-ortho",
        start="2026-05-04",
        end="2026-05-29",
        expert_feedback=fb(
            5,
            "Operated 38 patients with the residents (malunions, clubfoot, open fractures), gave 10 lectures and revised the trauma protocols.",
            170,
            True,
            "Two senior residents can now manage most clubfoot cases with the Ponseti method on their own.",
        ),
        institution_feedback=fb(
            5,
            "Mission exceptionnelle. Le Dr Desrosiers a opéré, enseigné en créole et laissé des protocoles clairs.",
            160,
            True,
            "La liste d'attente en orthopédie a baissé d'un tiers ; une deuxième mission est demandée pour 2027.",
        ),
    ),
    E(
        need="ht-ecole-sagesfemmes",
        stage="confirmed",
        expert="guerline-sf",
        start="2027-01-18",
        end="2027-03-12",
    ),
    E(
        need="ht-parasismique",
        stage="cancelled",
        expert=None,
        start="2026-10-05",
        end="2026-12-11",
        reason="Semaine sur place annulée : l'aéroport de Port-au-Prince est fermé aux vols commerciaux. Le module est reporté au second semestre.",
    ),
    E(need="ht-labo-qualite", stage="proposed", expert=None),
    # --- Cameroon ---------------------------------------------------------------------------
    E(
        need="cm-deces-maternels",
        stage="accepted",
        expert="carine-obgyn",
        start="2027-02-08",
        end="2027-04-02",
    ),
    E(
        need="cm-bootcamp-mentors",
        stage="active",
        expert="brenda-soft",
        start="2026-09-14",
        end="2027-01-01",
    ),
    # --- Ethiopia ---------------------------------------------------------------------------
    E(need="et-modelling-course", stage="approved", expert="meron-epi"),
    E(
        need="et-trauma-training",
        stage="offered",
        expert="henok-surgeon",
        start="2027-03-01",
        end="2027-03-26",
    ),
    E(
        need="et-network-model",
        stage="completed",
        expert=None,
        start="2026-05-11",
        end="2026-08-03",
        expert_feedback=fb(
            4,
            "Built the EPANET model with the utility team, calibrated it during a two-week visit and trained four engineers.",
            62,
            True,
            "The utility used the model to choose between two extension plans for the new districts.",
        ),
        institution_feedback=fb(
            4,
            "Very good technical work. Field data collection took longer than planned, which was our side.",
            60,
            True,
            "Model handed over and in use; an MSc student is extending it to pressure management.",
        ),
    ),
    # --- Ghana, Nigeria, Philippines, Vietnam -----------------------------------------------
    E(
        need="gh-bridge-lectures",
        stage="completed",
        expert="kwabena-civil",
        start="2026-09-07",
        end="2026-10-16",
        expert_feedback=fb(
            5,
            "Six online guest lectures with case studies from UK highway bridges and two Ghanaian bridges the students visited.",
            14,
            True,
            "Students are now doing a condition survey of three local bridges as their final-year project.",
        ),
        institution_feedback=fb(
            5,
            "Students loved the real case studies. Lectures recorded and reused.",
            12,
            True,
            "Bridge inspection is now a permanent topic in the final-year structures course.",
        ),
    ),
    E(
        need="gh-odaw-flood",
        stage="rejected",
        expert=None,
        reason="Availability starts in April, after the deadline we need for the rainy-season maps.",
    ),
    E(
        need="ng-neonatal-qi",
        stage="active",
        expert="ngozi-neonat",
        start="2026-10-05",
        end="2027-01-22",
    ),
    E(
        need="ng-ams",
        stage="declined",
        expert=None,
        start="2027-01-11",
        end="2027-04-02",
        reason="Sorry, I've just taken on a new role and can't commit three hours a week until the summer.",
    ),
    E(
        need="ph-simulation-faculty",
        stage="completed",
        expert="rowena-nurse",
        start="2026-07-06",
        end="2026-08-28",
        expert_feedback=fb(
            5,
            "Eight live workshops on scenario design and debriefing, plus feedback on 12 scenarios written by the faculty.",
            26,
            True,
            "The faculty now runs simulation days every month without outside help.",
        ),
        institution_feedback=fb(
            4,
            "Very practical. The time difference meant early mornings for Rowena, we are grateful.",
            24,
            True,
            "All 14 clinical instructors completed the course; OSCEs were run with the new stations in October.",
        ),
    ),
    E(need="vn-laparoscopy", stage="proposed", expert="minh-surgeon"),
    # --- Mexico, Colombia, Brazil, Cape Verde, Mozambique -----------------------------------
    E(
        need="mx-arquitectura-software",
        stage="confirmed",
        expert="ximena-soft",
        start="2027-01-16",
        end="2027-04-17",
    ),
    E(need="co-mejoramiento-barrios", stage="proposed", expert="catalina-arq"),
    E(
        need="co-supervision-clinica",
        stage="cancelled",
        expert=None,
        start="2026-08-10",
        end="2026-12-18",
        reason="El experto tuvo que suspender la colaboración por motivos de salud después de cuatro sesiones. La universidad volverá a publicar la necesidad.",
    ),
    E(need="br-reanimacao-neonatal", stage="approved", expert="juliana-neonat"),
    E(
        need="cv-perdas-agua",
        stage="offered",
        expert="nuno-water",
        start="2027-02-01",
        end="2027-04-09",
    ),
    E(need="mz-adaptacao-costeira", stage="proposed", expert="celia-climate"),
]
