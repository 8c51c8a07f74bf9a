from django.urls import reverse

from onboarding.models import Membership, Role, Team
from portal.models import AuditEvent


def test_creating_a_team_in_the_page_makes_you_lead(client_for, lead):
    client = client_for(lead)
    response = client.post(reverse("team_create"), {"name": "Analytics"})
    assert response.status_code == 302
    team = Team.objects.get(slug="analytics")
    assert Membership.objects.get(team=team, user=lead).role == Role.LEAD


def test_a_lead_adds_a_member(client_for, lead, team, make_user):
    make_user("carol")
    client_for(lead).post(reverse("team_member_set", args=[team.slug]), {"username": "carol", "role": "member"})
    assert team.memberships.filter(user__username="carol", role=Role.MEMBER).exists()
    assert AuditEvent.objects.filter(action="team.member_add").exists()


def test_a_member_cannot_change_members(client_for, member, team, make_user):
    make_user("carol")
    response = client_for(member).post(
        reverse("team_member_set", args=[team.slug]), {"username": "carol", "role": "lead"}, follow=True
    )
    assert "Only a lead" in response.text
    assert not team.memberships.filter(user__username="carol").exists()


def test_the_last_lead_cannot_leave(client_for, lead, team):
    response = client_for(lead).post(reverse("team_member_remove", args=[team.slug, lead.username]), follow=True)
    assert "at least one lead" in response.text
    assert team.memberships.filter(user=lead).exists()


def test_an_outsider_gets_404_for_a_team(client_for, outsider, team):
    assert client_for(outsider).get(reverse("team_detail", args=[team.slug])).status_code == 404


def test_the_last_lead_cannot_demote_themselves(client_for, lead, team):
    response = client_for(lead).post(
        reverse("team_member_set", args=[team.slug]), {"username": lead.username, "role": "member"}, follow=True
    )
    assert "is the last lead of Data Engine, and a team keeps at least one lead" in response.text
    assert team.memberships.get(user=lead).role == Role.LEAD


def test_a_lead_may_step_down_when_another_lead_remains(lead, team, make_user):
    from onboarding import services

    other = make_user("carol")
    services.team_set_member(team=team, user=other, role=Role.LEAD, by=lead)
    services.team_set_member(team=team, user=lead, role=Role.MEMBER, by=lead)
    assert team.memberships.get(user=lead).role == Role.MEMBER
