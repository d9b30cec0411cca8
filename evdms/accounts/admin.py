"""Django admin for platform operators: organisations, grants, users, admins, keys."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from evdms.accounts.models import Admin, ApiKey, Grant, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "slug", "kind", "currency", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug", "public_id")
    prepopulated_fields = {"slug": ("name",)}
    # Made once, at random; other organisations have it to grant rights.
    readonly_fields = ("public_id",)


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("grantor", "grantee", "rights_given", "scope", "created_at", "revoked_at")
    list_filter = (
        "can_manage_drivers",
        "can_view_transactions",
        "can_view_installations",
        "can_edit_connections",
        "all_connections",
    )
    list_select_related = ("grantor", "grantee")
    search_fields = ("grantor__name", "grantee__name", "description")
    filter_horizontal = ("connections",)
    raw_id_fields = ("grantor", "grantee", "created_by", "revoked_by")

    @admin.display(description="rights")
    def rights_given(self, grant: Grant) -> str:
        return ", ".join(str(right.label) for right in grant.rights)

    @admin.display(description="connections")
    def scope(self, grant: Grant) -> str:
        return "all, present and future" if grant.all_connections else "chosen"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    search_fields = ("email", "full_name")
    list_filter = ("is_staff", "is_active")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Platform", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    filter_horizontal = ("groups",)


@admin.register(Admin)
class AdminAccountAdmin(admin.ModelAdmin):
    list_display = ("email", "user", "organisation", "role", "status", "created_at")
    list_filter = ("role", "status")
    list_select_related = ("user", "organisation")
    search_fields = ("email", "organisation__name")
    raw_id_fields = ("user", "invited_by")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "role", "prefix", "created_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("organisation",)
